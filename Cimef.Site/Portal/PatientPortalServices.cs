using Cimef.Site.Web;
using Microsoft.AspNetCore.Authentication;

namespace Cimef.Site.Portal;

/// <summary>Registrations of the patient portal: session scheme, throttle, sign-in, recovery, the rendered dashboards.</summary>
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
        services.AddSingleton<RenderedDashboards>();
        services.AddScoped<PatientRecovery>();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, PatientSessionHandler>(AuthSchemes.Patient, null);
        return services;
    }
}
