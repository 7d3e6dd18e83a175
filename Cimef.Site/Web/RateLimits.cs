namespace Cimef.Site.Web;

public static class RateLimits
{
    /// <summary>Per-IP cap on patient login requests (page form and JSON API).</summary>
    public const string PatientLogin = "patient-login";
}
