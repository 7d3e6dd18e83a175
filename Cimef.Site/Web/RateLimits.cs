namespace Cimef.Site.Web;

public static class RateLimits
{
    /// <summary>Per-IP cap on patient login requests (page form and JSON API).</summary>
    public const string PatientLogin = "patient-login";

    /// <summary>Per-IP cap on staff sign-in submissions (Staff:SignInRequestsPerMinutePerIp).</summary>
    public const string StaffSignIn = "staff-sign-in";
}
