using System.Net.Http.Json;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>A client of one node that carries cookies by hand: the patient cookie is <c>__Host-</c> and Secure, which
/// HttpClient does not send over http. <paramref name="from"/> is the client address the proxy (127.0.0.1) forwards.</summary>
public sealed class NodeClient(string address, string from, List<string> cookies) : IDisposable
{
    private readonly HttpClient _http = new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(address) };
    public List<string> Cookies { get; } = cookies;

    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        request.Headers.Add("X-Forwarded-For", from);
        if (Cookies.Count > 0) request.Headers.Add("Cookie", string.Join("; ", Cookies));
        var response = await _http.SendAsync(request);
        if (response.Headers.TryGetValues("Set-Cookie", out var set)) Cookies.AddRange(set.Select(c => c.Split(';')[0]));
        return response;
    }

    public Task<HttpResponseMessage> GetAsync(string url) => SendAsync(new HttpRequestMessage(HttpMethod.Get, url));

    public Task<HttpResponseMessage> LoginJsonAsync(string key, string password) => SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/patients/portal/login/")
    {
        Content = JsonContent.Create(new { access_key = key, password }),
    });

    public void Dispose() => _http.Dispose();
}
