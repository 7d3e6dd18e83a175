using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Notifications;

/// <summary>
/// Sends an SMS through the provider chosen by Sms:Provider — Orange (OAuth2 client credentials, then the
/// outbound SMS request) or Twilio (REST) — or, with none, writes it to data/sms-pickup/. Provider errors
/// become DeliveryException: 4xx (except 408/429) are permanent, 5xx, timeouts and network errors transient.
/// Provider credentials come from configuration only.
/// </summary>
public sealed class SmsSender(IHttpClientFactory http, IOptions<SmsOptions> sms, IOptions<StorageOptions> storage, TimeProvider time)
{
    public const string HttpClientName = "sms";
    private readonly SemaphoreSlim _tokenLock = new(1, 1);
    private string? _orangeToken;
    private DateTimeOffset _orangeTokenExpires;

    public string Provider => (sms.Value.Provider ?? "").Trim().ToLowerInvariant() switch
    {
        "orange" => "Orange",
        "twilio" => "Twilio",
        _ => "None",
    };

    public async Task SendAsync(string to, string text, CancellationToken ct = default)
    {
        switch (Provider)
        {
            case "Orange": await SendOrangeAsync(to, text, ct); break;
            case "Twilio": await SendTwilioAsync(to, text, ct); break;
            default: await WritePickupAsync(to, text, ct); break;
        }
    }

    private async Task SendOrangeAsync(string to, string text, CancellationToken ct)
    {
        var o = sms.Value.Orange;
        var token = await OrangeTokenAsync(ct);
        var sender = o.SenderAddress ?? "";
        var url = $"{o.BaseUrl.TrimEnd('/')}/smsmessaging/v1/outbound/{Uri.EscapeDataString(sender)}/requests";
        var request = new Dictionary<string, object>
        {
            ["address"] = to.StartsWith("tel:", StringComparison.Ordinal) ? to : "tel:" + to,
            ["senderAddress"] = sender,
            ["outboundSMSTextMessage"] = new Dictionary<string, string> { ["message"] = text },
        };
        if (!string.IsNullOrWhiteSpace(o.SenderName)) request["senderName"] = o.SenderName;
        using var message = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = JsonContent.Create(new Dictionary<string, object> { ["outboundSMSMessageRequest"] = request }),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await SendHttpAsync(message, "Orange", ct);
        if (response.StatusCode == HttpStatusCode.Unauthorized) _orangeToken = null;
        await EnsureSuccessAsync(response, "Orange", ct);
    }

    private async Task<string> OrangeTokenAsync(CancellationToken ct)
    {
        await _tokenLock.WaitAsync(ct);
        try
        {
            if (_orangeToken is not null && time.GetUtcNow() < _orangeTokenExpires) return _orangeToken;
            var o = sms.Value.Orange;
            using var message = new HttpRequestMessage(HttpMethod.Post, $"{o.BaseUrl.TrimEnd('/')}/oauth/v3/token")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
            };
            message.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{o.ClientId}:{o.ClientSecret}")));
            message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await SendHttpAsync(message, "Orange (jeton)", ct);
            await EnsureSuccessAsync(response, "Orange (jeton)", ct);
            try
            {
                using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
                var token = doc.RootElement.GetProperty("access_token").GetString();
                if (string.IsNullOrEmpty(token)) throw new DeliveryException("Orange (jeton) : réponse sans access_token", false);
                var seconds = doc.RootElement.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var s) ? s : 3600;
                _orangeToken = token;
                _orangeTokenExpires = time.GetUtcNow().AddSeconds(Math.Max(0, seconds - 60));
                return token;
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new DeliveryException("Orange (jeton) : réponse illisible", false, e);
            }
        }
        finally
        {
            _tokenLock.Release();
        }
    }

    private async Task SendTwilioAsync(string to, string text, CancellationToken ct)
    {
        var t = sms.Value.Twilio;
        var url = $"{t.BaseUrl.TrimEnd('/')}/2010-04-01/Accounts/{Uri.EscapeDataString(t.AccountSid ?? "")}/Messages.json";
        using var message = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["To"] = to, ["From"] = t.From ?? "", ["Body"] = text }),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{t.AccountSid}:{t.AuthToken}")));
        using var response = await SendHttpAsync(message, "Twilio", ct);
        await EnsureSuccessAsync(response, "Twilio", ct);
    }

    private async Task<HttpResponseMessage> SendHttpAsync(HttpRequestMessage message, string provider, CancellationToken ct)
    {
        var client = http.CreateClient(HttpClientName);
        client.Timeout = TimeSpan.FromSeconds(sms.Value.TimeoutSeconds);
        try
        {
            return await client.SendAsync(message, ct);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new DeliveryException($"{provider} : délai dépassé ({sms.Value.TimeoutSeconds} s)", false, e);
        }
        catch (HttpRequestException e)
        {
            throw new DeliveryException($"{provider} : injoignable ({e.HttpRequestError})", false, e);
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string provider, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var code = (int)response.StatusCode;
        var detail = await ProviderDetailAsync(response, ct);
        var permanent = code is >= 400 and < 500 and not 408 and not 429;
        throw new DeliveryException($"{provider} : HTTP {code}{(detail.Length > 0 ? " — " + detail : "")}", permanent);
    }

    /// <summary>The provider's own short error text (Twilio "message", Orange "requestError…text"), bounded.</summary>
    private static async Task<string> ProviderDetailAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            if (body.Length == 0) return "";
            using var doc = JsonDocument.Parse(body);
            var text = FindText(doc.RootElement) ?? "";
            return text.Length > 200 ? text[..200] : text;
        }
        catch (JsonException)
        {
            return "";
        }
    }

    private static string? FindText(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) return null;
        foreach (var name in new[] { "message", "text", "error_description", "description" })
            if (e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String) return v.GetString();
        foreach (var p in e.EnumerateObject())
            if (FindText(p.Value) is string s) return s;
        return null;
    }

    private async Task WritePickupAsync(string to, string text, CancellationToken ct)
    {
        var dir = storage.Value.SmsPickupDirectory;
        Storage.PrivateFiles.CreateDirectory(dir);
        var name = $"{time.GetUtcNow():yyyyMMdd-HHmmss}-{Guid.NewGuid():N}.txt";
        var temp = Path.Combine(dir, "." + name + ".tmp");
        await File.WriteAllTextAsync(temp, $"To: {to}\n\n{text}\n", new UTF8Encoding(false), ct);
        // The message carries credentials: readable by the service account only.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, Path.Combine(dir, name));
    }
}
