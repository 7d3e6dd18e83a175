using Cimef.Site.Web;
using Microsoft.AspNetCore.Authentication;
using Cimef.Site.Reports;

namespace Cimef.Site.Portal;

/// <summary>Registrations of the patient portal: session scheme, throttle, sign-in, downloads.</summary>
public static class PatientPortalServices
{
    public static IServiceCollection AddPatientPortal(this IServiceCollection services)
    {
        services.AddScoped<LoginThrottle>();
        services.AddSingleton<MalformedKeyAttempts>();
        services.AddSingleton<DeviceCookies>();
        services.AddSingleton<PhoneCookies>();
        services.AddScoped<PatientSessions>();
        services.AddScoped<PatientSignIn>();
        services.AddScoped<PatientReportFiles>();
        services.AddScoped<Reports.ReportDelivery>(); // every path that serves a report file (patient, share, FHIR)
        services.AddScoped<ReportShares>();
        services.AddScoped<PatientRecovery>();
        services.AddSingleton<Auditing.AccessEventBatch>();
        services.AddHostedService(sp => sp.GetRequiredService<Auditing.AccessEventBatch>());
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, PatientSessionHandler>(AuthSchemes.Patient, null);
        return services;
    }
}
