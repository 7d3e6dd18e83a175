using System.Text.RegularExpressions;
using Cimef.Site.Auditing;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Portal;

/// <summary>Patient-side steps for the portal tests: logins, signed-in clients and the access events they leave.</summary>
public static partial class PortalData
{
    /// <summary>Report list views are group-committed just after the response: wait for them before counting.</summary>
    public static Task FlushEventsAsync(this CimefFactory factory) => factory.Services.GetRequiredService<AccessEventBatch>().FlushAsync();

    public static async Task<int> EventCountAsync(this CimefFactory factory, string kind, int? accessId = null)
    {
        await factory.FlushEventsAsync();
        return await factory.WithDbAsync(db => db.AccessEvents.CountAsync(e => e.Kind == kind && (accessId == null || e.PatientAccessId == accessId)));
    }

    public static async Task<Dictionary<string, int>> EventCountsAsync(this CimefFactory factory)
    {
        await factory.FlushEventsAsync();
        return await factory.WithDbAsync(db => db.AccessEvents.GroupBy(e => e.Kind).ToDictionaryAsync(g => g.Key, g => g.Count()));
    }

    /// <summary>Runs <paramref name="action"/> and returns the AccessEvent kinds it added (kind → count).</summary>
    public static async Task<Dictionary<string, int>> EventsDuringAsync(this CimefFactory factory, Func<Task> action)
    {
        var before = await factory.EventCountsAsync();
        await action();
        var after = await factory.EventCountsAsync();
        return after.Select(kv => (kv.Key, Count: kv.Value - before.GetValueOrDefault(kv.Key))).Where(x => x.Count != 0)
            .ToDictionary(x => x.Key, x => x.Count);
    }

    /// <summary>Login through the page form (antiforgery included).</summary>
    public static Task<HttpResponseMessage> LoginFormAsync(this HttpClient client, string key, string password) =>
        client.PostFormAsync("/patient", new() { ["Input.AccessKey"] = key, ["Input.Password"] = password });

    public static Task<HttpResponseMessage> LoginJsonAsync(this HttpClient client, string key, string password) =>
        client.PostJsonAsync("/api/patients/portal/login/", new Dictionary<string, string> { ["access_key"] = key, ["password"] = password });

    /// <summary>A client signed in as <paramref name="p"/> (through the page form).</summary>
    public static async Task<HttpClient> PatientClientAsync(this CimefFactory factory, TestPatient p)
    {
        var client = factory.NewClient();
        var response = await client.LoginFormAsync(p.Key, p.Password);
        if ((int)response.StatusCode != 302) throw new InvalidOperationException($"Patient login failed: {(int)response.StatusCode}");
        return client;
    }

    /// <summary>The response body with HTML entities decoded (Razor encodes ' and + as entities).</summary>
    public static async Task<string> TextAsync(this HttpResponseMessage response) =>
        System.Net.WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());

    /// <summary>The raw session cookie value held by a client (for replay tests).</summary>
    public static string? SessionCookie(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values)
            ? values.Select(v => SessionCookieRegex().Match(v)).FirstOrDefault(m => m.Success)?.Groups[1].Value
            : null;

    [GeneratedRegex("__Host-cimef_patient=([^;]+)")]
    private static partial Regex SessionCookieRegex();
}
