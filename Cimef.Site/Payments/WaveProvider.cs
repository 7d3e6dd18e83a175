using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cimef.Site.Data.Entities;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Payments;

/// <summary>
/// Wave's Checkout API (docs.wave.com/checkout) and webhooks (docs.wave.com/webhook):
/// <c>POST {BaseUrl}/v1/checkout/sessions</c> with <c>Authorization: Bearer {ApiKey}</c> and an <c>Idempotency-Key</c>,
/// answering a checkout session whose <c>wave_launch_url</c> the patient opens; <c>POST {BaseUrl}/v1/checkout/sessions/{id}/expire</c>
/// closes a session nobody should pay any more; webhooks carry
/// <c>Wave-Signature: t={unix seconds},v1={hex HMAC-SHA256(secret, t + raw body)}[,v1=…]</c> (several v1 while a
/// secret is rotated) and are refused when older than five minutes.
/// </summary>
public sealed class WaveProvider(IHttpClientFactory http, IOptions<PaymentsOptions> options, ILogger<WaveProvider> log) : IPaymentProvider
{
    public const string HttpClientName = "wave";
    public const string SignatureHeader = "Wave-Signature";
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    public string Name => "wave";
    public PaymentMethod Method => PaymentMethod.Wave;
    public bool IsConfigured => options.Value.Wave.IsConfigured;

    private sealed record SessionBody(
        [property: JsonPropertyName("amount")] string Amount,
        [property: JsonPropertyName("currency")] string Currency,
        [property: JsonPropertyName("client_reference")] string ClientReference,
        [property: JsonPropertyName("success_url")] string SuccessUrl,
        [property: JsonPropertyName("error_url")] string ErrorUrl);

    public async Task<CheckoutSession> CreateCheckoutAsync(CheckoutRequest request, CancellationToken ct)
    {
        var wave = options.Value.Wave;
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(wave.BaseUrl!.TrimEnd('/') + "/"), "v1/checkout/sessions"))
        {
            Content = JsonContent.Create(new SessionBody(request.Amount.ToString(CultureInfo.InvariantCulture), "XOF",
                request.ClientReference, request.SuccessUrl, request.ErrorUrl)),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", wave.ApiKey);
        message.Headers.Add("Idempotency-Key", request.IdempotencyKey);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.TimeoutSeconds));
        try
        {
            using var response = await http.CreateClient(HttpClientName).SendAsync(message, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                log.LogWarning("Wave refused the checkout session for {Reference}: HTTP {Status}.", request.ClientReference, (int)response.StatusCode);
                throw new PaymentProviderException($"Wave a refusé la création du lien de paiement (HTTP {(int)response.StatusCode}). Réessayez plus tard ou encaissez au guichet.");
            }
            using var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token), cancellationToken: timeout.Token);
            var root = doc.RootElement;
            var id = Text(root, "id");
            var url = Text(root, "wave_launch_url");
            if (string.IsNullOrEmpty(id) || id.Length > 100 || !Uri.TryCreate(url, UriKind.Absolute, out var launch) || url!.Length > 500
                || launch.Scheme is not ("https" or "http"))
                throw new PaymentProviderException("Réponse de Wave incomplète : aucun lien de paiement créé. Réessayez plus tard.");
            DateTime? expires = DateTimeOffset.TryParse(Text(root, "when_expires"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var e)
                ? e.UtcDateTime : null;
            return new CheckoutSession(id, url, expires);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            log.LogWarning("Wave unreachable for {Reference}: {Error}", request.ClientReference, e.GetType().Name);
            throw new PaymentProviderException("Wave est injoignable pour le moment : aucun lien de paiement créé. Réessayez dans quelques minutes ou encaissez au guichet.", e);
        }
    }

    public async Task ExpireCheckoutAsync(string checkoutId, CancellationToken ct)
    {
        var wave = options.Value.Wave;
        using var message = new HttpRequestMessage(HttpMethod.Post,
            new Uri(new Uri(wave.BaseUrl!.TrimEnd('/') + "/"), $"v1/checkout/sessions/{Uri.EscapeDataString(checkoutId)}/expire"));
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", wave.ApiKey);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.TimeoutSeconds));
        try
        {
            using var response = await http.CreateClient(HttpClientName).SendAsync(message, timeout.Token);
            // 404: Wave has no such session; 409: it is no longer open (paid or expired): nothing is left to expire.
            if (response.IsSuccessStatusCode || response.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Conflict) return;
            log.LogWarning("Wave refused to expire checkout session {Checkout}: HTTP {Status}.", checkoutId, (int)response.StatusCode);
            throw new PaymentProviderException($"Wave a refusé de fermer le lien de paiement {checkoutId} (HTTP {(int)response.StatusCode}).");
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            log.LogWarning("Wave unreachable to expire {Checkout}: {Error}", checkoutId, e.GetType().Name);
            throw new PaymentProviderException($"Wave est injoignable : le lien de paiement {checkoutId} sera fermé à la prochaine tentative.", e);
        }
    }

    public WebhookEvent? ReadWebhook(IHeaderDictionary headers, byte[] body, DateTimeOffset now)
    {
        if (!Verify(headers[SignatureHeader].ToString(), body, options.Value.Wave.WebhookSecret!, now)) return null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var type = Text(root, "type") ?? "";
            var data = root.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
            var isObject = data.ValueKind == JsonValueKind.Object;
            int? amount = isObject && decimal.TryParse(Text(data, "amount"), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var a)
                && a == decimal.Truncate(a) && a is > 0 and <= int.MaxValue ? (int)a : null;
            var outcome = type switch
            {
                "checkout.session.completed" when isObject && Text(data, "payment_status") == "succeeded" && Text(data, "checkout_status") == "complete" => WebhookOutcome.Succeeded,
                "checkout.session.completed" or "checkout.session.payment_failed" => WebhookOutcome.Failed,
                _ => WebhookOutcome.Other,
            };
            return new WebhookEvent(Text(root, "id") ?? "", type, outcome, isObject ? Text(data, "id") : null, amount,
                isObject ? Text(data, "currency") : null, isObject ? Text(data, "transaction_id") : null, isObject ? Text(data, "client_reference") : null);
        }
        catch (JsonException)
        {
            // Signed by Wave but not JSON: nothing to act on.
            return new WebhookEvent("", "", WebhookOutcome.Other, null, null, null, null);
        }
    }

    /// <summary>
    /// The documented check: the header's t is no older than five minutes (nor more than five in the future), and one of
    /// its v1 values equals hex(HMAC-SHA256(secret, t immediately followed by the raw body)), compared in fixed time.
    /// </summary>
    public static bool Verify(string? header, byte[] body, string secret, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(header) || header.Length > 2000) return false;
        string? t = null;
        var signatures = new List<byte[]>();
        foreach (var part in header.Split(','))
        {
            var kv = part.Trim().Split('=', 2);
            if (kv.Length != 2) continue;
            if (kv[0] == "t") t = kv[1];
            else if (kv[0] == "v1" && kv[1].Length == 64)
            {
                try { signatures.Add(Convert.FromHexString(kv[1])); }
                catch (FormatException) { }
            }
        }
        if (t is null || signatures.Count == 0 || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return false;
        if (seconds > 253402300799) return false;
        var age = now - DateTimeOffset.FromUnixTimeSeconds(seconds);
        if (age > MaxAge || age < -MaxAge) return false;
        var expected = Sign(secret, t, body);
        var match = false;
        foreach (var s in signatures) match |= CryptographicOperations.FixedTimeEquals(s, expected);
        return match;
    }

    public static byte[] Sign(string secret, string timestamp, byte[] body)
    {
        var payload = new byte[Encoding.UTF8.GetByteCount(timestamp) + body.Length];
        var n = Encoding.UTF8.GetBytes(timestamp, payload);
        body.CopyTo(payload, n);
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), payload);
    }

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
