using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Cimef.Site.Portal;

namespace Cimef.Site.Web;

/// <summary>
/// Who may read /metrics: the configured addresses (IPs or CIDR networks, after forwarded headers from trusted proxies)
/// or whoever sends <c>Authorization: Bearer {Token}</c>. With neither, nothing is measured and /metrics is a 404.
/// </summary>
public sealed class MetricsOptions : IValidatableObject
{
    public const string Section = "Metrics";

    public string[] AllowedAddresses { get; set; } = [];

    public string? Token { get; set; }

    public bool Enabled => AllowedAddresses.Length > 0 || !string.IsNullOrEmpty(Token);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var a in AllowedAddresses)
            if (!IPNetwork.TryParse(a, out _) && !IPAddress.TryParse(a, out _))
                yield return new ValidationResult($"Metrics:AllowedAddresses : « {a} » n'est ni une adresse IP ni un réseau CIDR (ex. 10.0.0.0/8).");
        if (!string.IsNullOrEmpty(Token) && Token.Length < 16)
            yield return new ValidationResult("Metrics:Token doit compter au moins 16 caractères.");
    }

    internal bool Allows(HttpContext http)
    {
        if (http.Connection.RemoteIpAddress is { } ip)
        {
            if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
            foreach (var a in AllowedAddresses)
                if (IPNetwork.TryParse(a, out var net) ? net.Contains(ip) : IPAddress.Parse(a).Equals(ip)) return true;
        }
        if (string.IsNullOrEmpty(Token)) return false;
        var header = http.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(header[7..].Trim())), SHA256.HashData(Encoding.UTF8.GetBytes(Token)));
    }
}

/// <summary>
/// The counters the site adds to (one meter, <see cref="MeterName"/>): patient logins by outcome, report downloads and
/// their bytes, database and report-store errors. Static, so the code that counts needs no extra service; nothing is
/// recorded unless a meter provider listens (Metrics enabled). No label ever identifies a patient.
/// </summary>
public static class CimefMetrics
{
    public const string MeterName = "Cimef.Portal";
    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Logins = Meter.CreateCounter<long>("cimef.portal.logins", "{login}",
        "Patient login attempts by outcome (success, failure, disabled, throttled).");
    private static readonly Counter<long> Downloads = Meter.CreateCounter<long>("cimef.portal.downloads", "{download}",
        "Report downloads started from the first byte, by who receives them (patient, share, fhir).");
    private static readonly Counter<long> DownloadedBytes = Meter.CreateCounter<long>("cimef.portal.downloaded", "By",
        "Size of the report files whose download started.");
    private static readonly Counter<long> DatabaseErrors = Meter.CreateCounter<long>("cimef.db.errors", "{error}",
        "Errors raised by the database driver (SQLite or PostgreSQL), handled or not.");
    private static readonly Counter<long> StorageErrors = Meter.CreateCounter<long>("cimef.storage.errors", "{error}",
        "Requests to the report object store (S3) that failed.");

    public static void Login(PatientSignIn.Outcome outcome) => Logins.Add(1, new KeyValuePair<string, object?>("outcome", outcome switch
    {
        PatientSignIn.Outcome.Success => "success",
        PatientSignIn.Outcome.Invalid => "failure",
        PatientSignIn.Outcome.Disabled => "disabled",
        _ => "throttled",
    }));

    /// <param name="via">patient (the portal), share (a doctor's link) or fhir (an integration's Binary read).</param>
    public static void Download(long bytes, string via)
    {
        var tag = new KeyValuePair<string, object?>("via", via);
        Downloads.Add(1, tag);
        DownloadedBytes.Add(bytes, tag);
    }

    public static void StorageError() => StorageErrors.Add(1);

    private static readonly ConditionalWeakTable<Exception, object> Counted = [];
    private static int _watching;

    /// <summary>
    /// Every database error, whatever reads the database (EF, Dapper, the hot queries) and whether or not it is handled,
    /// seen where the driver throws it. An async rethrow raises the same exception again: each one counts once.
    /// </summary>
    internal static void WatchDatabaseErrors()
    {
        if (Interlocked.Exchange(ref _watching, 1) == 1) return;
        AppDomain.CurrentDomain.FirstChanceException += (_, e) =>
        {
            if (e.Exception is not System.Data.Common.DbException db || !DatabaseErrors.Enabled || !Counted.TryAdd(db, Counted)) return;
            var system = db.GetType().Namespace?.StartsWith("Npgsql", StringComparison.Ordinal) == true ? "postgresql" : "sqlite";
            DatabaseErrors.Add(1, new KeyValuePair<string, object?>("db.system.name", system),
                new KeyValuePair<string, object?>("error.type", db.GetType().Name));
        };
    }
}

/// <summary>
/// The gauges read from the database at scrape time: pending outbox messages and the age of the oldest, open alerts by
/// rule, each background job's last run, and whether this node leads the cluster. One short read per scrape (the
/// instruments share it for a second), on indexed columns.
/// </summary>
public sealed class MetricsGauges
{
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger<MetricsGauges> _log;
    private readonly Lock _gate = new();
    private (long At, Snapshot Value)? _last;

    private sealed record Snapshot(int Pending, double OldestAgeSeconds, List<(string Rule, int Count)> Alerts, List<(string Job, DateTime LastRun)> Jobs);

    public MetricsGauges(IMeterFactory meters, IServiceScopeFactory scopes, TimeProvider time, ClusterLeader leader, ILogger<MetricsGauges> log)
    {
        _scopes = scopes;
        _time = time;
        _log = log;
        var meter = meters.Create(CimefMetrics.MeterName);
        meter.CreateObservableGauge("cimef.outbox.pending", () => Read() is { } s ? [new Measurement<int>(s.Pending)] : Array.Empty<Measurement<int>>(),
            "{message}", "Notifications waiting in the outbox (e-mail, SMS).");
        meter.CreateObservableGauge("cimef.outbox.oldest_age", () => Read() is { } s ? [new Measurement<double>(s.OldestAgeSeconds)] : Array.Empty<Measurement<double>>(),
            "s", "Age of the oldest pending outbox message (0 when none).");
        meter.CreateObservableGauge("cimef.alerts.open", () => Read()?.Alerts.Select(a => new Measurement<int>(a.Count, new KeyValuePair<string, object?>("rule", a.Rule))) ?? [],
            "{alert}", "Alerts not yet acknowledged, by rule.");
        meter.CreateObservableGauge("cimef.job.last_run", () => Read()?.Jobs.Select(j => new Measurement<double>(
                new DateTimeOffset(DateTime.SpecifyKind(j.LastRun, DateTimeKind.Utc)).ToUnixTimeSeconds(), new KeyValuePair<string, object?>("job", j.Job))) ?? [],
            "s", "When each once-per-cluster background job last ran (Unix time).");
        meter.CreateObservableGauge("cimef.cluster.leader", () => leader.IsLeading ? 1 : 0, "{node}",
            "1 when this node runs the once-per-cluster jobs.");
    }

    private Snapshot? Read()
    {
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_last is { } last && _time.GetElapsedTime(last.At, now) < TimeSpan.FromSeconds(1)) return last.Value;
            try
            {
                using var scope = _scopes.CreateScope();
                var db = scope.ServiceProvider.GetRequiredService<CimefDb>();
                var pending = db.OutboxMessages.AsNoTracking().Where(o => o.Status == OutboxStatus.Pending);
                var count = pending.Count();
                var oldest = count == 0 ? null : pending.Min(o => (DateTime?)o.CreatedAt);
                var age = oldest is { } o ? Math.Max(0, (_time.GetUtcNow().UtcDateTime - o).TotalSeconds) : 0;
                var alerts = db.Alerts.AsNoTracking().Where(a => a.AcknowledgedAt == null).GroupBy(a => a.Kind)
                    .Select(g => new { g.Key, N = g.Count() }).AsEnumerable().Select(g => (g.Key, g.N)).ToList();
                var jobs = db.JobStates.AsNoTracking().Where(j => j.LastRunAt != null)
                    .Select(j => new { j.Name, j.LastRunAt }).AsEnumerable().Select(j => (j.Name, j.LastRunAt!.Value)).ToList();
                var snapshot = new Snapshot(count, age, alerts, jobs);
                _last = (now, snapshot);
                return snapshot;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                // The scrape still answers (request counters, leader flag); the database errors counter shows why.
                _log.LogWarning(e, "Metrics: the database could not be read for the outbox, alert and job gauges.");
                _last = null;
                return null;
            }
        }
    }
}

/// <summary>
/// The low-cardinality group every request's <c>http.server.request.duration</c> carries (<c>cimef.endpoint.group</c>):
/// patient_pages and patient_api (the patient side's endpoints, <see cref="Portal.PatientSide"/>), fhir, staff (every page or API behind a staff policy, and the staff sign-in pages),
/// other (static files, health probes, a doctor's share link, payment returns and webhooks, unknown paths).
/// </summary>
public static class EndpointGroups
{
    public const string Attribute = "cimef.endpoint.group";

    public static string Of(HttpContext http)
    {
        var path = http.Request.Path;
        if (path.StartsWithSegments("/fhir")) return "fhir";
        var endpoint = http.GetEndpoint();
        if (endpoint is null) return "other";
        if (Portal.PatientSide.Of(endpoint) is not null) return Api.ApiJson.IsApi(http.Request) ? "patient_api" : "patient_pages";
        var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>();
        if (policies.Count > 0 && (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null || path.StartsWithSegments("/Account"))) return "staff";
        return "other";
    }
}

public static class MetricsSetup
{
    /// <summary>Measures requests and the site's own instruments when Metrics:Token or Metrics:AllowedAddresses is set; otherwise adds nothing.</summary>
    public static WebApplicationBuilder AddMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<MetricsOptions>().Bind(builder.Configuration.GetSection(MetricsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        if (builder.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() is not { Enabled: true }) return builder;
        builder.Services.AddSingleton<MetricsGauges>();
        builder.Services.AddTransient<IStartupFilter, EndpointGroupTagging>();
        // Only the request duration of ASP.NET Core's hosting meter and the site's own meter: no Kestrel, routing or
        // runtime meters (fewer series to keep in memory and to scrape).
        builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService("cimef-portal")).WithMetrics(m => m
            .AddMeter("Microsoft.AspNetCore.Hosting", CimefMetrics.MeterName)
            .AddView("http.server.active_requests", MetricStreamConfiguration.Drop)
            .AddView("http.server.request.duration", new ExplicitBucketHistogramConfiguration
            {
                // The route, method and status are enough to find a slow page; no path, so no report or patient id.
                TagKeys = [EndpointGroups.Attribute, "http.route", "http.request.method", "http.response.status_code"],
                Boundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
            })
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        CimefMetrics.WatchDatabaseErrors();
        return builder;
    }

    /// <summary>/metrics (Prometheus text) for the allowed addresses or the Bearer token; not mapped when Metrics is not configured.</summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (!options.Enabled) return app;
        app.Services.GetRequiredService<MetricsGauges>();
        app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: branch => branch.Use((http, next) =>
        {
            if (options.Allows(http)) return next(http);
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Task.CompletedTask;
        }), optionsName: null).AllowAnonymous().DisableRateLimiting();
        return app;
    }

    /// <summary>Tags each request's duration with its <see cref="EndpointGroups"/> group, first in the pipeline so every request has one.</summary>
    private sealed class EndpointGroupTagging : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (http, nextMiddleware) =>
            {
                try
                {
                    await nextMiddleware(http);
                }
                finally
                {
                    http.Features.Get<IHttpMetricsTagsFeature>()?.Tags.Add(new(EndpointGroups.Attribute, EndpointGroups.Of(http)));
                }
            });
            next(app);
        };
    }
}
