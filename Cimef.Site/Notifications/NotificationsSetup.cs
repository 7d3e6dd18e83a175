namespace Cimef.Site.Notifications;

public static class NotificationsSetup
{
    /// <summary>E-mail and SMS, sent from the outbox by a background worker (a message is queued in its cause's transaction).</summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services)
    {
        services.AddSingleton<EmailSender>();
        services.AddSingleton<SmsSender>();
        services.AddHttpClient(SmsSender.HttpClientName);
        services.AddScoped<OutboxProcessor>();
        services.AddHostedService<OutboxWorker>();
        return services;
    }
}
