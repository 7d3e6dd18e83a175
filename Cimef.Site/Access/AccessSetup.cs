namespace Cimef.Site.Access;

public static class AccessSetup
{
    /// <summary>Patient credentials: their keyed hashes (<see cref="CredentialProtector"/>), provisioning and handover.</summary>
    public static IServiceCollection AddAccess(this IServiceCollection services)
    {
        services.AddSingleton<CredentialProtector>();
        services.AddScoped<AccessProvisioning>();
        services.AddScoped<CredentialHandover>();
        return services;
    }
}
