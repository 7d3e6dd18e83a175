using Cimef.Site.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace Cimef.Site.Access;

/// <summary>Registrations of the patient portal (issue 4): session scheme, throttle, sign-in, downloads.</summary>
public static class PatientPortalServices
{
    /// <summary>Patient API endpoints: a valid patient session, nothing else.</summary>
    public static readonly AuthorizationPolicy Policy =
        new AuthorizationPolicyBuilder(AuthSchemes.Patient).RequireAuthenticatedUser().Build();

    public static IServiceCollection AddPatientPortal(this IServiceCollection services)
    {
        services.AddScoped<LoginThrottle>();
        services.AddSingleton<MalformedKeyAttempts>();
        services.AddSingleton<DeviceCookies>();
        services.AddScoped<PatientSessions>();
        services.AddScoped<PatientSignIn>();
        services.AddScoped<PatientReportFiles>();
        services.AddSingleton<Auditing.AccessEventBatch>();
        services.AddHostedService(sp => sp.GetRequiredService<Auditing.AccessEventBatch>());
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, PatientSessionHandler>(AuthSchemes.Patient, null);
        return services;
    }
}
