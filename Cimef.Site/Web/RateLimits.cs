using System.Threading.RateLimiting;
using Cimef.Site.Api;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Cimef.Site.Portal;
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
    public static bool IsPatientRequest(HttpContext http) =>
        (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
        && PatientSide.Of(http) is { Download: false };

    /// <summary>
    /// The global patient concurrency limit and the named per-address policies. A rejection answers 429 with
    /// Retry-After: JSON callers {"error", "retry_after"}, pages the French 429 page.
    /// </summary>
    public static IServiceCollection AddRateLimits(this IServiceCollection services) => services.AddRateLimiter(o =>
    {
        o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        o.OnRejected = (ctx, _) =>
        {
            var seconds = ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? (int)Math.Ceiling(retry.TotalSeconds) : 60;
            ctx.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return ctx.HttpContext.Request.IsApi()
                ? new ValueTask(ApiJson.Throttled(seconds).ExecuteAsync(ctx.HttpContext))
                : ValueTask.CompletedTask;
        };
        o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http => IsPatientRequest(http)
            ? RateLimitPartition.GetConcurrencyLimiter("patient", _ =>
            {
                var portal = PortalOf(http);
                return new ConcurrencyLimiterOptions
                {
                    PermitLimit = PatientRequestsAtOnce(portal),
                    QueueLimit = portal.PatientRequestsWaiting,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                };
            })
            : RateLimitPartition.GetNoLimiter("staff"));
        // Only submissions are capped; displaying the login page, a share's code form or the staff sign-in is not.
        o.AddPolicy(PatientLogin, http => IsSubmission(http)
            ? SharedRateLimits.PerMinute(http, PatientLogin, PortalOf(http).LoginRequestsPerMinutePerIp)
            : RateLimitPartition.GetNoLimiter("read"));
        o.AddPolicy(ShareCode, http => HttpMethods.IsPost(http.Request.Method)
            ? SharedRateLimits.PerMinute(http, ShareCode, PortalOf(http).LoginRequestsPerMinutePerIp)
            : RateLimitPartition.GetNoLimiter("read"));
        o.AddPolicy(PatientShare, http => HttpMethods.IsPost(http.Request.Method) && http.Request.Query["handler"] == "Create"
            ? SharedRateLimits.PerMinute(http, PatientShare, PortalOf(http).LoginRequestsPerMinutePerIp)
            : RateLimitPartition.GetNoLimiter("other"));
        o.AddPolicy(Health, http => RateLimitPartition.GetFixedWindowLimiter(ClientIp.Bucket(http), _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = HealthRequestsPerMinutePerIp,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));
        o.AddPolicy(StaffSignIn, http => HttpMethods.IsPost(http.Request.Method)
            ? SharedRateLimits.PerMinute(http, StaffSignIn, http.RequestServices.GetRequiredService<IOptions<StaffOptions>>().Value.SignInRequestsPerMinutePerIp)
            : RateLimitPartition.GetNoLimiter("read"));
    });

    private static PortalOptions PortalOf(HttpContext http) => http.RequestServices.GetRequiredService<IOptions<PortalOptions>>().Value;

    private static bool IsSubmission(HttpContext http) => !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method);
}
