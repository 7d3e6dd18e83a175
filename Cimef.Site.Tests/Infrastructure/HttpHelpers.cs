using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>Antiforgery and htmx helpers for tests that go through the real pipeline.</summary>
public static partial class HttpHelpers
{
    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenInput();

    [GeneratedRegex("\"requestToken\":\"([^\"]+)\"")]
    private static partial Regex TokenMeta();

    /// <summary>GETs <paramref name="pageUrl"/> (setting the antiforgery cookie) and returns the form token it carries.</summary>
    public static async Task<string> GetAntiforgeryTokenAsync(this HttpClient client, string pageUrl)
    {
        var html = await client.GetStringAsync(pageUrl);
        var m = TokenInput().Match(html);
        if (!m.Success) m = TokenMeta().Match(html);
        if (!m.Success) throw new InvalidOperationException($"No antiforgery token on {pageUrl}.");
        return System.Net.WebUtility.HtmlDecode(m.Groups[1].Value);
    }

    /// <summary>POSTs a form to <paramref name="url"/> with a token taken from <paramref name="tokenPage"/> (default: the same URL).</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(this HttpClient client, string url, Dictionary<string, string> fields, string? tokenPage = null, bool htmx = false)
    {
        var token = await client.GetAntiforgeryTokenAsync(tokenPage ?? StripHandler(url));
        var all = new Dictionary<string, string>(fields) { ["__RequestVerificationToken"] = token };
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(all) };
        if (htmx) request.Headers.Add("HX-Request", "true");
        return await client.SendAsync(request);
    }

    /// <summary>A GET as htmx sends it.</summary>
    public static Task<HttpResponseMessage> HtmxGetAsync(this HttpClient client, string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("HX-Request", "true");
        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body)
        => client.PostAsync(url, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string url, object body)
        => client.PutAsync(url, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static void UseBearer(this HttpClient client, string token) =>
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

    private static string StripHandler(string url)
    {
        var q = url.IndexOf('?');
        return q < 0 ? url : url[..q];
    }
}
