using System.Net;
using System.Threading.RateLimiting;
using Cimef.Site;
using Cimef.Site.Access;
using Cimef.Site.Languages;
using Cimef.Site.Api;
using Cimef.Site.Auditing;
using Cimef.Site.Cli;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Fhir;
using Cimef.Site.Invoicing;
using Cimef.Site.Payments;
using Cimef.Site.Storage;
using Cimef.Site.Web;
using Htmx.TagHelpers;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting.WindowsServices;
using Microsoft.Extensions.Options;
using Cimef.Site.Portal;
using Cimef.Site.Reports;

// Composition root only: services, middleware, endpoint mapping and CLI dispatch.
var verb = CliRunner.VerbOf(args);
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = verb is null ? args : [],
    // A published binary started from elsewhere (service, scheduled task) still finds its appsettings.json and data/.
    ContentRootPath = WindowsServiceHelpers.IsWindowsService() || !File.Exists(Path.Combine(Environment.CurrentDirectory, "appsettings.json"))
        ? AppContext.BaseDirectory : null,
    WebRootPath = StaticAssets.FindWebRoot(),
});
builder.WebHost.ConfigureKestrel(o => o.AddServerHeader = false);
builder.Services.AddWindowsService(o => o.ServiceName = "CimefPortal");
builder.Services.AddSystemd();
builder.AddLogFormat(); // Logging:Format=json: one JSON object per line (node, trace id, event id)

// Typed, validated configuration.
AddOptions<StorageOptions>(StorageOptions.Section).PostConfigure<IHostEnvironment>((o, env) =>
    o.Root = Path.GetFullPath(Path.Combine(env.ContentRootPath, o.DataDirectory)));
AddOptions<PortalOptions>(PortalOptions.Section);
AddOptions<ClinicOptions>(ClinicOptions.Section);
AddOptions<EmailOptions>(EmailOptions.Section);
AddOptions<SmsOptions>(SmsOptions.Section);
AddOptions<ReportsOptions>(ReportsOptions.Section);
AddOptions<NotificationsOptions>(NotificationsOptions.Section);
AddOptions<AlertsOptions>(AlertsOptions.Section);
AddOptions<AuditOptions>(AuditOptions.Section);
AddOptions<NetworkOptions>(NetworkOptions.Section);
AddOptions<AdminOptions>(AdminOptions.Section);
// The binder appends configured array items to the defaults; a configured role list replaces them instead.
AddOptions<AccessOptions>(AccessOptions.Section).PostConfigure(o =>
    o.CredentialRoles = builder.Configuration.GetSection(AccessOptions.Section + ":" + nameof(AccessOptions.CredentialRoles)).Get<string[]>() ?? o.CredentialRoles);
AddOptions<StaffOptions>(StaffOptions.Section);
AddOptions<BackupOptions>(BackupOptions.Section);
AddOptions<PaymentsOptions>(PaymentsOptions.Section).Validate<IHostEnvironment>((o, env) => o.Wave.HasSecureBaseUrl(env), WaveOptions.HttpsRequired);

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(sp => new ClinicClock(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<ClinicOptions>>().Value));
AddOptions<DatabaseOptions>(DatabaseOptions.Section);
AddOptions<ClusterOptions>(ClusterOptions.Section);
builder.Services.AddSingleton<Cimef.Site.Data.ClusterLeader>();
builder.Services.AddDatabase();
builder.Services.AddSingleton<SqliteWriteGate>();
builder.Services.AddSingleton<Cimef.Site.Pages.Portal.RenderedDashboards>();
builder.Services.AddSingleton<Cimef.Site.Reports.MonthlyDownloads>();
builder.Services.AddSingleton<Cimef.Site.Pages.AuditPages.ClosedDays>();

// Key ring (and the credential HMAC secret with it): keys directory or database, optionally certificate-encrypted.
AddOptions<KeyRingOptions>(KeyRingOptions.Section);
AddOptions<KeyRingSafetyOptions>(KeyRingSafetyOptions.Section);
builder.Services.AddKeyRing();

builder.Services.AddSingleton<CredentialProtector>();
builder.Services.AddScoped<AccessProvisioning>();
builder.Services.AddScoped<CredentialHandover>();
builder.Services.AddScoped<Cimef.Site.FrontDesk.PatientRegistration>();
// Report files: the data directory, or an S3 bucket shared by several web nodes (Storage:Reports:Provider).
builder.Services.AddSingleton<ReportStore>(sp => sp.GetRequiredService<IOptions<StorageOptions>>().Value.Reports.IsS3
    ? ActivatorUtilities.CreateInstance<S3ReportStore>(sp)
    : ActivatorUtilities.CreateInstance<FileSystemReportStore>(sp));
builder.Services.AddScoped<InvoiceWorkflow>(); // front desk and billing
// Payment links and webhooks: one IPaymentProvider per provider (Wave today).
builder.Services.AddHttpClient(Cimef.Site.Payments.WaveProvider.HttpClientName);
builder.Services.AddSingleton<Cimef.Site.Payments.IPaymentProvider, Cimef.Site.Payments.WaveProvider>();
builder.Services.AddScoped<Cimef.Site.Payments.PaymentLinks>();
builder.Services.AddScoped<Cimef.Site.Payments.CheckoutExpiry>();
builder.Services.AddHostedService<Cimef.Site.Payments.CheckoutExpiryWorker>(); // tells Wave to expire the links the portal closed

// Reports and notifications: release workflow, outbox sending (email/SMS), integrity check.
builder.Services.AddScoped<ReportPublisher>();
builder.Services.AddScoped<FhirPush>(); // FHIR R4 API
builder.Services.AddSingleton<Cimef.Site.Notifications.EmailSender>();
builder.Services.AddSingleton<Cimef.Site.Notifications.SmsSender>();
builder.Services.AddHttpClient(Cimef.Site.Notifications.SmsSender.HttpClientName);
builder.Services.AddScoped<Cimef.Site.Notifications.OutboxProcessor>();
builder.Services.AddHostedService<Cimef.Site.Notifications.OutboxWorker>();
builder.Services.AddHostedService<NativeHeapTrim>(); // working set
builder.Services.AddSingleton<IntegrityWorker>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<IntegrityWorker>());
builder.Services.AddPatientPortal(); // Patient portal: session scheme, login throttle, downloads
// Audit, statistics and alerts: portal timings, alert rules + monitor, retention job.
builder.Services.AddAuditing();
builder.AddMetrics(); // Prometheus /metrics for the allowed addresses or token (Metrics:*)

// Staff: ASP.NET Core Identity on the same database.
builder.Services.Configure<PasswordHasherOptions>(o => o.IterationCount = 210_000);
builder.Services.AddIdentity<StaffUser, IdentityRole>(o =>
    {
        o.Lockout.MaxFailedAccessAttempts = 5;
        o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
        o.Lockout.AllowedForNewUsers = true;
        o.Password.RequiredLength = 10;
        o.Password.RequireDigit = true;
        o.Password.RequireLowercase = false;
        o.Password.RequireUppercase = false;
        o.Password.RequireNonAlphanumeric = false;
        o.User.RequireUniqueEmail = true;
    })
    .AddEntityFrameworkStores<CimefDb>()
    .AddErrorDescriber<FrenchIdentityErrors>()
    .AddDefaultTokenProviders();
builder.Services.AddScoped<StaffLockout>(); // per account and per recognised device
builder.Services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(1));
builder.Services.ConfigureApplicationCookie(o =>
{
    o.Cookie.Name = "cimef_staff";
    o.Cookie.HttpOnly = true;
    o.Cookie.SameSite = SameSiteMode.Strict;
    o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
    o.LoginPath = "/Account/SignIn";
    o.LogoutPath = "/Account/SignOut";
    o.AccessDeniedPath = "/Account/Denied";
    o.ExpireTimeSpan = TimeSpan.FromHours(10);
    o.SlidingExpiration = true;
    o.Events.OnRedirectToLogin = ctx => AuthRedirects.Redirect(ctx.HttpContext, ctx.RedirectUri, StatusCodes.Status401Unauthorized);
    o.Events.OnRedirectToAccessDenied = ctx => AuthRedirects.Redirect(ctx.HttpContext, ctx.RedirectUri, StatusCodes.Status403Forbidden);
});
builder.Services.AddAuthentication()
    .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiTokenHandler>(AuthSchemes.ApiToken, null);
builder.Services.AddAuthorization(Policies.Add);
builder.Services.AddOptions<Microsoft.AspNetCore.Authorization.AuthorizationOptions>()
    .Configure<IOptions<AccessOptions>>((o, access) => Policies.AddCredentials(o, access.Value));
builder.Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ForbiddenAudit>();

builder.Services.AddRazorPages(o =>
{
    // Every page is for staff, except the patient portal, which takes the patient session instead: one policy per
    // page, since two [Authorize] would combine into "signed in by either scheme".
    o.Conventions.AddFolderApplicationModelConvention("/", m => m.EndpointMetadata.Add(new AuthorizeAttribute(
        m.ViewEnginePath.StartsWith("/Portal/", StringComparison.Ordinal) ? Policies.Patient : Policies.Staff)));
    o.Conventions.AllowAnonymousToFolder("/Account");
    o.Conventions.AllowAnonymousToPage("/Portal/Index"); // the login page
    o.Conventions.AllowAnonymousToPage("/Portal/Logout"); // clears the cookie even when the session has expired
    o.Conventions.AllowAnonymousToPage("/Portal/Forget"); // « Oublier ce téléphone » is offered on the login page too
    o.Conventions.AllowAnonymousToPage("/Error");
    o.Conventions.AllowAnonymousToFolder("/Payments"); // the pages Wave sends the patient back to (no patient data)
    o.Conventions.AllowAnonymousToFolder("/Share"); // a doctor's shared-report link: the code, then a cookie bound to that share
    o.Conventions.AuthorizeFolder("/Staff", Policies.Admin);
}).ConfigureApplicationPartManager(parts =>
{
    // Pages and minimal APIs only: no search for controllers or view components, which loads every type of the
    // site's assembly and of the htmx packages.
    parts.FeatureProviders.Remove(parts.FeatureProviders.OfType<Microsoft.AspNetCore.Mvc.Controllers.ControllerFeatureProvider>().Single());
    parts.FeatureProviders.Remove(parts.FeatureProviders.OfType<Microsoft.AspNetCore.Mvc.ViewComponents.ViewComponentFeatureProvider>().Single());
});
builder.Services.Configure<Microsoft.AspNetCore.Mvc.MvcOptions>(FrenchModelBinding.Apply);
// No 500 from bad input: unknown page handlers are 404/405; minimal-API binding failures throw
// BadHttpRequestException, which FriendlyExceptionHandler turns into a French 400 and a one-line warning.
builder.Services.Configure<Microsoft.AspNetCore.Mvc.MvcOptions>(o => o.Filters.Add(new UnknownPageHandlerFilter()));
builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
DapperRecords.Register();
// French text is written as UTF-8, not as &#xE9; entities (smaller pages, readable source).
builder.Services.Configure<Microsoft.Extensions.WebEncoders.WebEncoderOptions>(o =>
    o.TextEncoderSettings = new System.Text.Encodings.Web.TextEncoderSettings(System.Text.Unicode.UnicodeRanges.All));
builder.Services.AddAntiforgery(o =>
{
    o.Cookie.Name = Cimef.Site.Pages.Portal.RenderedDashboards.AntiforgeryCookie;
    o.Cookie.SameSite = SameSiteMode.Strict;
    o.HeaderName = "RequestVerificationToken";
});
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
    o.SerializerOptions.DictionaryKeyPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
});

builder.Services.AddResponseCompression(o =>
{
    o.EnableForHttps = true;
    o.Providers.Add<BrotliCompressionProvider>();
    o.Providers.Add<GzipCompressionProvider>();
    o.MimeTypes = ResponseCompressionDefaults.MimeTypes.Concat(["image/svg+xml", "text/csv"]);
});
// Responses are compressed per request: Fastest costs a fraction of Optimal's CPU for near-equal size on small HTML.
builder.Services.Configure<BrotliCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Fastest);
builder.Services.Configure<GzipCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Fastest);

builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<NetworkOptions>>((o, net) =>
{
    o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
    o.KnownProxies.Clear();
    o.KnownIPNetworks.Clear();
    foreach (var p in net.Value.KnownProxies)
        if (IPAddress.TryParse(p, out var ip)) o.KnownProxies.Add(ip);
    // Empty KnownProxies and KnownIPNetworks would make the middleware trust every client: trust nobody instead.
    if (o.KnownProxies.Count == 0) o.ForwardedHeaders = ForwardedHeaders.None;
});

builder.Services.AddRateLimiter(o =>
{
    o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
    o.OnRejected = (ctx, _) =>
    {
        var seconds = ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? (int)Math.Ceiling(retry.TotalSeconds) : 60;
        ctx.HttpContext.Response.Headers.RetryAfter = seconds.ToString();
        // JSON callers get {"error", "retry_after"} (patient portal); pages get the French 429 page.
        return ctx.HttpContext.Request.IsApi()
            ? new ValueTask(ApiJson.Throttled(seconds).ExecuteAsync(ctx.HttpContext))
            : ValueTask.CompletedTask;
    };
    o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http => RateLimits.IsPatientRequest(http.Request)
        ? RateLimitPartition.GetConcurrencyLimiter("patient", _ =>
        {
            var portal = http.RequestServices.GetRequiredService<IOptions<PortalOptions>>().Value;
            return new ConcurrencyLimiterOptions
            {
                PermitLimit = RateLimits.PatientRequestsAtOnce(portal),
                QueueLimit = portal.PatientRequestsWaiting,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            };
        })
        : RateLimitPartition.GetNoLimiter("staff"));
    o.AddPolicy(RateLimits.PatientLogin, http =>
    {
        var portal = http.RequestServices.GetRequiredService<IOptions<PortalOptions>>().Value;
        // Only login submissions are capped; displaying the login page is not.
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
            return RateLimitPartition.GetNoLimiter("read");
        return SharedRateLimits.PerMinute(http, RateLimits.PatientLogin, portal.LoginRequestsPerMinutePerIp);
    });
    o.AddPolicy(RateLimits.ShareCode, http =>
    {
        if (!HttpMethods.IsPost(http.Request.Method)) return RateLimitPartition.GetNoLimiter("read");
        var portal = http.RequestServices.GetRequiredService<IOptions<PortalOptions>>().Value;
        return SharedRateLimits.PerMinute(http, RateLimits.ShareCode, portal.LoginRequestsPerMinutePerIp);
    });
    o.AddPolicy(RateLimits.PatientShare, http =>
    {
        if (!HttpMethods.IsPost(http.Request.Method) || http.Request.Query["handler"] != "Create") return RateLimitPartition.GetNoLimiter("other");
        var portal = http.RequestServices.GetRequiredService<IOptions<PortalOptions>>().Value;
        return SharedRateLimits.PerMinute(http, RateLimits.PatientShare, portal.LoginRequestsPerMinutePerIp);
    });
    o.AddPolicy(RateLimits.Health, http => RateLimitPartition.GetFixedWindowLimiter(ClientIp.Bucket(http), _ => new FixedWindowRateLimiterOptions
    {
        PermitLimit = RateLimits.HealthRequestsPerMinutePerIp,
        Window = TimeSpan.FromMinutes(1),
        QueueLimit = 0,
    }));
    o.AddPolicy(RateLimits.StaffSignIn, http =>
    {
        if (!HttpMethods.IsPost(http.Request.Method)) return RateLimitPartition.GetNoLimiter("read");
        var staff = http.RequestServices.GetRequiredService<IOptions<StaffOptions>>().Value;
        return SharedRateLimits.PerMinute(http, RateLimits.StaffSignIn, staff.SignInRequestsPerMinutePerIp);
    });
});
// Cookies set on a request that arrived over HTTPS (directly or per a trusted proxy's X-Forwarded-Proto) are Secure,
// whoever sets them and whatever their own policy says; UseCookiePolicy runs after UseForwardedHeaders.
builder.Services.Configure<CookiePolicyOptions>(o => o.Secure = CookieSecurePolicy.SameAsRequest);
builder.Services.AddExceptionHandler<FriendlyExceptionHandler>();
builder.Services.AddProblemDetails();

var app = builder.Build();

if (verb is not null) return await CliRunner.RunAsync(app.Services, args);

try
{
    KeyRing.RefuseUnprotected(app.Services);
    await DatabaseStartup.InitializeAsync(app.Services);
}
catch (OptionsValidationException e)
{
    return InvalidConfiguration(e);
}
catch (StartupRefusedException e)
{
    Console.Error.WriteLine(e.Message);
    return 3;
}
if (app.Environment.IsDevelopment()) await DemoSeed.SeedIfEmptyAsync(app.Services, Console.Out);

app.UseForwardedHeaders();
app.UseMiddleware<ForwardedHeadersWarning>();
app.UseCookiePolicy();
app.UsePatientLanguages(); // the patient side's language, before the error pages re-execute
app.UseMiddleware<PortalTimingMiddleware>(); // alerts: p95 of patient-portal requests
app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandlingPath = "/Error", SuppressDiagnosticsCallback = _ => true });
// HSTS on every request that is HTTPS, including through a trusted TLS-terminating proxy (UseHsts skips plain HTTP).
app.UseHsts();
if (HttpsConfigured(app.Configuration)) app.UseHttpsRedirection();
app.UseMiddleware<SecurityHeaders>();
app.UseStatusCodePagesWithReExecute("/Error", "?code={0}");
app.UseResponseCompression();
app.UseStaticFiles(StaticAssets.Options());
app.UseRouting();
app.UseRateLimiter();
app.UseAuthentication();
app.UseAuthorization();
app.UseMiddleware<UploadLimit>(); // report uploads: size limit before the body is read
app.UseAntiforgery();

app.MapHtmxAntiforgeryScript();
app.MapRazorPages();
app.MapHealth();
app.MapMetrics();
app.MapPortalApp(); // the installable patient web app: manifest, icons, service worker
// Every /api endpoint: a cookie-authenticated state change needs a JSON body or an antiforgery token (CSRF).
var api = app.MapGroup("").AddEndpointFilter<ApiCsrfFilter>();
api.MapPatientsApi(); // front desk and billing
api.MapExamsApi();
api.MapInvoicesApi();
api.MapPaymentLinkApi(); // payment links
api.MapAccessApi();
api.MapReportsApi();
api.MapPortalApi(); // Patient portal JSON API
// Provider webhooks: anonymous and signed, no cookie, so outside the cookie API's CSRF filter.
app.MapPaymentWebhooks();
app.MapFhirApi(); // FHIR R4: Bearer tokens only, outside the cookie API's CSRF filter

try
{
    app.Run();
}
catch (OptionsValidationException e)
{
    return InvalidConfiguration(e);
}
return 0;

// A wrong setting stops the start with a readable message, not a stack trace.
static int InvalidConfiguration(OptionsValidationException e)
{
    Console.Error.WriteLine("Configuration invalide : " + string.Join(" ", e.Failures));
    return 3;
}

OptionsBuilder<T> AddOptions<T>(string section) where T : class =>
    builder.Services.AddOptions<T>().Bind(builder.Configuration.GetSection(section)).ValidateDataAnnotations().ValidateOnStart();

static bool HttpsConfigured(IConfiguration c) =>
    (c["urls"] ?? c["ASPNETCORE_URLS"] ?? "").Contains("https://", StringComparison.OrdinalIgnoreCase)
    || c.GetSection("Kestrel:Endpoints").GetChildren().Any(e => (e["Url"] ?? "").StartsWith("https", StringComparison.OrdinalIgnoreCase));

public partial class Program;
