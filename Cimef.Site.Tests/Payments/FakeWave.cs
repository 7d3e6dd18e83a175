using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cimef.Site.Payments;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cimef.Site.Tests.Payments;

/// <summary>
/// A loopback Wave (Kestrel on a free port) speaking the documented Checkout JSON: POST /v1/checkout/sessions checks the
/// Bearer key and the body and answers a session (same Idempotency-Key → same session); the launch page
/// GET /c/{id} "pays": it sends the signed checkout.session.completed webhook to the site, then redirects to success_url.
/// POST /v1/checkout/sessions/{id}/expire expires an open session (its launch page then pays nothing).
/// It can be told to fail (HTTP 500) or to hang (the site times out). Webhooks are signed as Wave documents:
/// Wave-Signature: t={unix seconds},v1={hex HMAC-SHA256(secret, t + raw body)}.
/// </summary>
public sealed class FakeWave : IAsyncDisposable
{
    public const string ApiKey = "wave_sn_prod_test-key-0123456789";
    public const string Secret = "wave_sn_WHS_test-secret-abcdef";

    public sealed record Session(string Id, int Amount, string Currency, string ClientReference, string SuccessUrl, string ErrorUrl, string LaunchUrl, DateTimeOffset Expires);

    private readonly WebApplication _app;
    private int _next;
    public ConcurrentDictionary<string, Session> Sessions { get; } = new();
    private readonly ConcurrentDictionary<string, string> _byIdempotencyKey = new();
    /// <summary>Every create request: (Authorization, Idempotency-Key, body).</summary>
    public ConcurrentQueue<(string Authorization, string IdempotencyKey, string Body)> Creates { get; } = new();
    /// <summary>Every expire request: (Authorization, session id).</summary>
    public ConcurrentQueue<(string Authorization, string Id)> Expires { get; } = new();
    /// <summary>Sessions expired through the API.</summary>
    public ConcurrentDictionary<string, DateTimeOffset> Expired { get; } = new();
    public bool Fail { get; set; }
    public bool Hang { get; set; }
    public string Address { get; private set; } = "";
    /// <summary>Where the launch page posts its webhook (the site's /api/payments/wave/webhook/).</summary>
    public string? WebhookTarget { get; set; }
    public Func<DateTimeOffset> Now { get; set; } = () => DateTimeOffset.UtcNow;
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromMinutes(30);

    private FakeWave(WebApplication app) => _app = app;

    public static FakeWave Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var self = new FakeWave(app);
        var stopping = app.Lifetime.ApplicationStopping;
        app.MapPost("/v1/checkout/sessions", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            var auth = http.Request.Headers.Authorization.ToString();
            var key = http.Request.Headers["Idempotency-Key"].ToString();
            self.Creates.Enqueue((auth, key, body));
            if (self.Hang)
            {
                // "Wave does not answer": hold the request until the site gives up (its HttpClient timeout) or the fake stops.
                using var hold = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
                try { await Task.Delay(Timeout.Infinite, hold.Token); }
                catch (OperationCanceledException) { }
                return Results.Empty;
            }
            if (self.Fail) return Results.Json(new { code = "internal-server-error", message = "Oops" }, statusCode: 500);
            if (auth != "Bearer " + ApiKey) return Results.Json(new { code = "api-key-revoked", message = "Invalid key" }, statusCode: 401);
            JsonObject? json;
            try { json = JsonNode.Parse(body) as JsonObject; }
            catch (JsonException) { json = null; }
            string? S(string name) => json?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            if (json is null || !int.TryParse(S("amount"), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || S("currency") != "XOF"
                || string.IsNullOrEmpty(S("client_reference")) || !Uri.IsWellFormedUriString(S("success_url"), UriKind.Absolute)
                || !Uri.IsWellFormedUriString(S("error_url"), UriKind.Absolute))
                return Results.Json(new { code = "request-validation-error", message = "Invalid body" }, statusCode: 400);
            if (key.Length > 0 && self._byIdempotencyKey.TryGetValue(key, out var existing)) return Results.Json(self.Json(self.Sessions[existing]));
            var id = $"cos-{Interlocked.Increment(ref self._next):D4}{Guid.NewGuid():N}"[..20];
            var session = new Session(id, amount, "XOF", S("client_reference")!, S("success_url")!, S("error_url")!, $"{self.Address}/c/{id}", self.Now() + self.SessionLifetime);
            self.Sessions[id] = session;
            if (key.Length > 0) self._byIdempotencyKey[key] = id;
            return Results.Json(self.Json(session));
        });
        app.MapPost("/v1/checkout/sessions/{id}/expire", (string id, HttpContext http) =>
        {
            var auth = http.Request.Headers.Authorization.ToString();
            self.Expires.Enqueue((auth, id));
            if (self.Fail) return Results.Json(new { code = "internal-server-error", message = "Oops" }, statusCode: 500);
            if (auth != "Bearer " + ApiKey) return Results.Json(new { code = "api-key-revoked", message = "Invalid key" }, statusCode: 401);
            if (!self.Sessions.TryGetValue(id, out var s)) return Results.Json(new { code = "checkout-session-not-found", message = "Not found" }, statusCode: 404);
            self.Expired.TryAdd(id, self.Now());
            return Results.Json(self.Json(s));
        });
        // The page the patient's phone opens: pays at once, notifies the site, sends the patient back.
        app.MapGet("/c/{id}", async (string id) =>
        {
            if (!self.Sessions.TryGetValue(id, out var s)) return Results.NotFound();
            if (self.Expired.ContainsKey(id)) return Results.Text("Session expirée", statusCode: 410);
            var (body, header) = self.Event(id, "checkout.session.completed", "succeeded");
            using var client = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Post, self.WebhookTarget) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.Add(WaveProvider.SignatureHeader, header);
            using var response = await client.SendAsync(request);
            return response.IsSuccessStatusCode ? Results.Redirect(s.SuccessUrl) : Results.Redirect(s.ErrorUrl);
        });
        app.StartAsync().GetAwaiter().GetResult();
        self.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return self;
    }

    private object Json(Session s) => new Dictionary<string, object?>
    {
        ["id"] = s.Id, ["amount"] = s.Amount.ToString(CultureInfo.InvariantCulture), ["checkout_status"] = Expired.ContainsKey(s.Id) ? "expired" : "open", ["client_reference"] = s.ClientReference,
        ["currency"] = s.Currency, ["error_url"] = s.ErrorUrl, ["last_payment_error"] = null, ["business_name"] = "CIMEF", ["payment_status"] = "processing",
        ["success_url"] = s.SuccessUrl, ["wave_launch_url"] = s.LaunchUrl, ["when_completed"] = null,
        ["when_created"] = Now().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"), ["when_expires"] = s.Expires.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"),
    };

    /// <summary>
    /// A signed event for session <paramref name="id"/> (Wave's envelope {id, type, data: checkout session}); amount and
    /// currency default to the session's. <paramref name="at"/> is the signature's time (default: now).
    /// </summary>
    public (byte[] Body, string Header) Event(string id, string type, string paymentStatus, string? amount = null, string? currency = null,
        string? eventId = null, DateTimeOffset? at = null, string? secret = null, string checkoutStatus = "complete", string? clientReference = null)
    {
        Sessions.TryGetValue(id, out var s);
        var data = new Dictionary<string, object?>
        {
            ["id"] = id, ["amount"] = amount ?? s?.Amount.ToString(CultureInfo.InvariantCulture) ?? "25000", ["checkout_status"] = checkoutStatus,
            ["client_reference"] = clientReference ?? s?.ClientReference, ["currency"] = currency ?? "XOF", ["error_url"] = s?.ErrorUrl, ["last_payment_error"] = null,
            ["business_name"] = "CIMEF", ["payment_status"] = paymentStatus, ["success_url"] = s?.SuccessUrl, ["transaction_id"] = "T_" + id.ToUpperInvariant(),
            ["wave_launch_url"] = s?.LaunchUrl, ["when_completed"] = Now().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"),
        };
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?> { ["id"] = eventId ?? "EV_" + Guid.NewGuid().ToString("N"), ["type"] = type, ["data"] = data });
        return (body, SignatureHeader(body, at ?? Now(), secret ?? Secret));
    }

    public static string SignatureHeader(byte[] body, DateTimeOffset at, string secret)
    {
        var t = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"t={t},v1={Convert.ToHexStringLower(WaveProvider.Sign(secret, t, body))}";
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The site configured for Wave against a <see cref="FakeWave"/> whose clock is the site's fake clock.</summary>
public class WaveFactory : Infrastructure.CimefFactory
{
    public FakeWave Wave { get; }

    public WaveFactory()
    {
        Wave = FakeWave.Start();
        Wave.Now = () => Time.GetUtcNow();
        Settings["Payments:Wave:BaseUrl"] = Wave.Address;
        Settings["Payments:Wave:ApiKey"] = FakeWave.ApiKey;
        Settings["Payments:Wave:WebhookSecret"] = FakeWave.Secret;
        Settings["Payments:TimeoutSeconds"] = "2";
    }

    public override async ValueTask DisposeAsync()
    {
        await Wave.DisposeAsync();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
