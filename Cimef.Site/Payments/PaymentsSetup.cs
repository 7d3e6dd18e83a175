namespace Cimef.Site.Payments;

public static class PaymentsSetup
{
    /// <summary>Payment links and webhooks: one <see cref="IPaymentProvider"/> per provider (Wave today), and the worker that expires closed links.</summary>
    public static IServiceCollection AddPayments(this IServiceCollection services)
    {
        services.AddHttpClient(WaveProvider.HttpClientName);
        services.AddSingleton<IPaymentProvider, WaveProvider>();
        services.AddScoped<PaymentLinks>();
        services.AddScoped<CheckoutExpiry>();
        services.AddHostedService<CheckoutExpiryWorker>(); // tells Wave to expire the links the portal closed
        return services;
    }
}
