using System.Net;
using Cimef.Site.Data;
using Cimef.Site.Languages;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.Hosting.WindowsServices;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Web;

/// <summary>The host and the HTTP pipeline every request goes through, in their one order.</summary>
public static class WebSetup
{
    public static WebApplicationBuilder CreateBuilder(string[] args, bool cli) => WebApplication.CreateBuilder(new WebApplicationOptions
    {
        Args = cli ? [] : args,
        // A published binary started from elsewhere (service, scheduled task) still finds its appsettings.json and data/.
        ContentRootPath = WindowsServiceHelpers.IsWindowsService() || !File.Exists(Path.Combine(Environment.CurrentDirectory, "appsettings.json"))
            ? AppContext.BaseDirectory : null,
        WebRootPath = StaticAssets.FindWebRoot(),
    });

    /// <summary>
    /// Kestrel without a Server header, Windows service or systemd unit, log format (Logging:Format=json: one JSON object
    /// per line), the clock, JSON in snake_case, UTF-8 text, compression, proxies, cookies, and bad input as a French 400.
    /// </summary>
    public static WebApplicationBuilder AddWebDefaults(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.WebHost.ConfigureKestrel(o => o.AddServerHeader = false);
        services.AddWindowsService(o => o.ServiceName = "CimefPortal");
        services.AddSystemd();
        builder.AddLogFormat();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new ClinicClock(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<ClinicOptions>>().Value));
        services.AddHostedService<NativeHeapTrim>(); // working set
        DapperRecords.Register();

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DictionaryKeyPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
        });
        // French text is written as UTF-8, not as &#xE9; entities (smaller pages, readable source).
        services.Configure<Microsoft.Extensions.WebEncoders.WebEncoderOptions>(o =>
            o.TextEncoderSettings = new System.Text.Encodings.Web.TextEncoderSettings(System.Text.Unicode.UnicodeRanges.All));
        // No 500 from bad input: minimal-API binding failures throw BadHttpRequestException, which
        // FriendlyExceptionHandler turns into a French 400 and a one-line warning.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<FriendlyExceptionHandler>();
        services.AddProblemDetails();

        services.AddResponseCompression(o =>
        {
            o.EnableForHttps = true;
            o.Providers.Add<BrotliCompressionProvider>();
            o.Providers.Add<GzipCompressionProvider>();
            o.MimeTypes = ResponseCompressionDefaults.MimeTypes.Concat(["image/svg+xml", "text/csv"]);
        });
        // Responses are compressed per request: Fastest costs a fraction of Optimal's CPU for near-equal size on small HTML.
        services.Configure<BrotliCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Fastest);
        services.Configure<GzipCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Fastest);

        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<NetworkOptions>>((o, net) =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var p in net.Value.KnownProxies)
                if (IPAddress.TryParse(p, out var ip)) o.KnownProxies.Add(ip);
            // Empty KnownProxies and KnownIPNetworks would make the middleware trust every client: trust nobody instead.
            if (o.KnownProxies.Count == 0) o.ForwardedHeaders = ForwardedHeaders.None;
        });
        // Cookies set on a request that arrived over HTTPS (directly or per a trusted proxy's X-Forwarded-Proto) are
        // Secure, whoever sets them and whatever their own policy says; UseCookiePolicy runs after UseForwardedHeaders.
        services.Configure<CookiePolicyOptions>(o => o.Secure = CookieSecurePolicy.SameAsRequest);
        return builder;
    }

    /// <summary>The middleware, in order.</summary>
    public static WebApplication UseWebPipeline(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseMiddleware<ForwardedHeadersWarning>();
        app.UseCookiePolicy();
        app.UsePatientLanguages(); // the patient side's language, before the error pages re-execute
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandlingPath = "/Error", SuppressDiagnosticsCallback = _ => true });
        // HSTS on every request that is HTTPS, including through a trusted TLS-terminating proxy (UseHsts skips plain HTTP).
        app.UseHsts();
        if (HttpsConfigured(app.Configuration)) app.UseHttpsRedirection();
        app.UseMiddleware<SecurityHeaders>();
        app.UseStatusCodePagesWithReExecute("/Error", "?code={0}");
        app.UseResponseCompression();
        app.UseStaticFiles(StaticAssets.Options());
        app.UseRouting();
        app.UseMiddleware<PortalTimingMiddleware>(); // alerts: p95 of patient-side requests, queueing for the patient limit included
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<UploadLimit>(); // report uploads: size limit before the body is read
        app.UseAntiforgery();
        return app;
    }

    private static bool HttpsConfigured(IConfiguration c) =>
        (c["urls"] ?? c["ASPNETCORE_URLS"] ?? "").Contains("https://", StringComparison.OrdinalIgnoreCase)
        || c.GetSection("Kestrel:Endpoints").GetChildren().Any(e => (e["Url"] ?? "").StartsWith("https", StringComparison.OrdinalIgnoreCase));
}
