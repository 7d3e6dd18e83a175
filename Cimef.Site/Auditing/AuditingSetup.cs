using Cimef.Site.Web;

namespace Cimef.Site.Auditing;

/// <summary>Service registrations of the audit, statistics and alerts feature.</summary>
public static class AuditingSetup
{
    public static IServiceCollection AddAuditing(this IServiceCollection services)
    {
        services.AddSingleton<PortalTimings>();
        services.AddHostedService<PortalTimingsFlusher>();
        services.AddScoped<AlertRules>();
        services.AddHostedService<AlertMonitor>();
        services.AddHostedService<RetentionJob>();
        services.AddSingleton<AccessEventBatch>(); // downloads and FHIR reads, written in batches
        services.AddHostedService(sp => sp.GetRequiredService<AccessEventBatch>());
        services.AddSingleton<ClosedDays>(); // the statistics page's closed days
        return services;
    }
}
