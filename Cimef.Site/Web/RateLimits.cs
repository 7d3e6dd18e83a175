namespace Cimef.Site.Web;

public static class RateLimits
{
    /// <summary>Per-IP cap on patient login requests (page form and JSON API).</summary>
    public const string PatientLogin = "patient-login";

    /// <summary>Per-IP cap on share code submissions (/s/{token}), at the patient login's rate.</summary>
    public const string ShareCode = "share-code";

    /// <summary>Per-IP cap on a patient's share creations (/patient/shares?handler=Create), at the patient login's rate.</summary>
    public const string PatientShare = "patient-share";

    /// <summary>Per-IP cap on /healthz: a monitor polls it every few seconds, a flood gets 429.</summary>
    public const string Health = "health";
    public const int HealthRequestsPerMinutePerIp = 60;

    /// <summary>Per-IP cap on staff sign-in submissions (Staff:SignInRequestsPerMinutePerIp).</summary>
    public const string StaffSignIn = "staff-sign-in";

    /// <summary>
    /// Patient requests served at once (Portal:PatientRequestsAtOnce, 0 = this default): under a patient burst
    /// the others wait, in order, instead of in the thread pool's queue, so a staff page (the cash desk, the statistics)
    /// starts at once and shares the cores with a few patient requests instead of waiting behind hundreds. Four per core
    /// keeps the cores busy while some of them wait on a commit or a file. A patient request never waits for a staff
    /// one. Up to Portal:PatientRequestsWaiting (5,000) wait; beyond, 429 (a flood, not a clinic's day).
    /// </summary>
    public static int PatientRequestsAtOnce(PortalOptions portal) =>
        portal.PatientRequestsAtOnce > 0 ? portal.PatientRequestsAtOnce : 4 * Environment.ProcessorCount;

    /// <summary>
    /// The patient side's reads that are limited: GET and HEAD of its pages, its JSON API and its report list. Not the
    /// report downloads — a client that reads a file slowly (or never: a stalled download) would keep its permit for as
    /// long as it likes, and a handful of them would stop every patient — and not the POSTs, whose body a slow client
    /// could likewise trickle (logins already queue at the write gate and have their own per-address limits).
    /// </summary>
    public static bool IsPatientRequest(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        && (request.Path.StartsWithSegments("/patient") || request.Path.StartsWithSegments("/api/patients/portal")
            || request.Path.StartsWithSegments("/api/reports/patient"))
        && !request.Path.StartsWithSegments("/patient/reports");
}
