using System.Net;
using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Cimef.Site.Portal;

namespace Cimef.Site.Tests.Portal;

/// <summary>Patient sessions: idle timeout, absolute cap, new id per login, logout, deactivation and regeneration.</summary>
public class SessionTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public SessionTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    private static async Task AssertSignedOutAsync(HttpClient client)
    {
        var response = await client.GetAsync("/patient/dashboard");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/patient", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Without_a_session_the_dashboard_redirects_to_the_login_page_and_the_api_answers_401()
    {
        var client = _factory.NewClient();
        await AssertSignedOutAsync(client);
        var api = await client.GetAsync("/api/patients/portal/profile/");
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.False(string.IsNullOrEmpty((await api.JsonAsync()).GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Thirty_minutes_without_activity_end_the_session_but_activity_slides_it()
    {
        var p = await _factory.Data.PatientAsync();
        var client = await _factory.PatientClientAsync(p);
        _factory.Time.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/patient/dashboard")).StatusCode);
        _factory.Time.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/patient/dashboard")).StatusCode);
        _factory.Time.Advance(TimeSpan.FromMinutes(31));
        await AssertSignedOutAsync(client);
    }

    [Fact]
    public async Task The_session_ends_after_twelve_hours_even_with_activity()
    {
        var p = await _factory.Data.PatientAsync();
        var client = await _factory.PatientClientAsync(p);
        for (var i = 0; i < 35; i++)
        {
            _factory.Time.Advance(TimeSpan.FromMinutes(20));
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/patients/portal/profile/")).StatusCode);
        }
        _factory.Time.Advance(TimeSpan.FromMinutes(20)); // 12 h after login
        await AssertSignedOutAsync(client);
    }

    [Fact]
    public async Task Each_login_gets_a_new_session_id()
    {
        var p = await _factory.Data.PatientAsync();
        var first = PortalData.SessionCookie(await _factory.NewClient().LoginFormAsync(p.Key, p.Password));
        var second = PortalData.SessionCookie(await _factory.NewClient().LoginFormAsync(p.Key, p.Password));
        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.NotEqual(first, second);
        Assert.Equal(2, await _factory.WithDbAsync(db => db.PatientSessions.CountAsync(s => s.PatientAccessId == p.AccessId)));
        Assert.Equal(2, await _factory.WithDbAsync(db => db.PatientAccesses.Where(a => a.Id == p.AccessId).Select(a => a.AccessCount).SingleAsync()));
    }

    [Fact]
    public async Task After_logout_a_replayed_cookie_is_refused()
    {
        var p = await _factory.Data.PatientAsync();
        var client = _factory.NewClient();
        var token = PortalData.SessionCookie(await client.LoginFormAsync(p.Key, p.Password))!;
        var logout = await client.PostFormAsync("/patient/logout", [], tokenPage: "/patient/dashboard");
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal("/patient", logout.Headers.Location!.OriginalString);
        var session = await _factory.WithDbAsync(db => db.PatientSessions.SingleAsync(s => s.PatientAccessId == p.AccessId));
        Assert.Equal("logout", session.EndReason);
        Assert.NotNull(session.EndedAt);

        var replay = _factory.CreateClient(new() { AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost"), HandleCookies = false });
        var request = new HttpRequestMessage(HttpMethod.Get, "/patient/dashboard");
        request.Headers.Add("Cookie", $"{PatientSessions.CookieName}={token}");
        var response = await replay.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var api = new HttpRequestMessage(HttpMethod.Get, "/api/reports/patient/");
        api.Headers.Add("Cookie", $"{PatientSessions.CookieName}={token}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.SendAsync(api)).StatusCode);
    }

    [Fact]
    public async Task Deactivating_or_regenerating_the_access_ends_its_sessions_at_once()
    {
        var a = await _factory.Data.PatientAsync();
        var b = await _factory.Data.PatientAsync();
        var clientA = await _factory.PatientClientAsync(a);
        var clientB = await _factory.PatientClientAsync(b);
        await _factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<CimefDb>();
            var provisioning = sp.GetRequiredService<AccessProvisioning>();
            await provisioning.DeactivateAsync(await db.PatientAccesses.SingleAsync(x => x.Id == a.AccessId), null);
            await provisioning.RegenerateAsync(await db.PatientAccesses.SingleAsync(x => x.Id == b.AccessId), null);
            await db.SaveChangesAsync();
        });
        await AssertSignedOutAsync(clientA);
        await AssertSignedOutAsync(clientB);
    }

    [Fact]
    public async Task An_expired_session_on_an_htmx_request_answers_hx_redirect_to_the_login_page()
    {
        var p = await _factory.Data.PatientAsync();
        var client = await _factory.PatientClientAsync(p);
        _factory.Time.Advance(TimeSpan.FromMinutes(31));
        var response = await client.HtmxGetAsync("/patient/dashboard");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/patient", response.Headers.GetValues("HX-Redirect").Single());
        Assert.DoesNotContain("Clé d'accès", await response.TextAsync());
    }

    [Fact]
    public async Task A_made_up_cookie_is_refused()
    {
        var client = _factory.CreateClient(new() { AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost"), HandleCookies = false });
        foreach (var value in new[] { "x", new string('a', 43), new string('a', 5000), "%00%0d%0a", "' OR 1=1 --" })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/patient/dashboard");
            request.Headers.TryAddWithoutValidation("Cookie", $"{PatientSessions.CookieName}={value}");
            Assert.Equal(HttpStatusCode.Redirect, (await client.SendAsync(request)).StatusCode);
        }
    }

    [Fact]
    public async Task Sliding_writes_last_seen_at_most_once_a_minute()
    {
        var p = await _factory.Data.PatientAsync();
        var client = await _factory.PatientClientAsync(p);
        var created = _factory.Time.GetUtcNow().UtcDateTime;
        _factory.Time.Advance(TimeSpan.FromSeconds(30));
        await client.GetAsync("/api/patients/portal/profile/");
        Assert.Equal(created, await _factory.WithDbAsync(db => db.PatientSessions.Where(s => s.PatientAccessId == p.AccessId).Select(s => s.LastSeenAt).SingleAsync()));
        _factory.Time.Advance(TimeSpan.FromSeconds(40));
        await client.GetAsync("/api/patients/portal/profile/");
        Assert.Equal(created.AddSeconds(70), await _factory.WithDbAsync(db => db.PatientSessions.Where(s => s.PatientAccessId == p.AccessId).Select(s => s.LastSeenAt).SingleAsync()));
    }
}
