namespace Cimef.Site.Web;

public static class RateLimits
{
    /// <summary>Per-IP cap on patient login requests (page form and JSON API).</summary>
    public const string PatientLogin = "patient-login";

    /// <summary>Per-IP cap on share code submissions (/s/{token}), at the patient login's rate (issue 14).</summary>
    public const string ShareCode = "share-code";

    /// <summary>Per-IP cap on /healthz: a monitor polls it every few seconds, a flood gets 429.</summary>
    public const string Health = "health";
    public const int HealthRequestsPerMinutePerIp = 60;

    /// <summary>Per-IP cap on staff sign-in submissions (Staff:SignInRequestsPerMinutePerIp).</summary>
    public const string StaffSignIn = "staff-sign-in";
}
