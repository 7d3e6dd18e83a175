using System.Net;
using Cimef.Site.Access;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Cimef.Site.Portal;

namespace Cimef.Site.Tests.Portal;

/// <summary>
/// One phone, several patients: the signed phone cookie (device id + remembered keys), login by a
/// remembered key with the password only, what is dropped or ignored, and « Oublier ce téléphone ».
/// </summary>
public class RememberedKeysTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public RememberedKeysTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    [Fact]
    public async Task A_remembered_key_is_a_button_with_initials_and_suffix_and_logs_in_with_the_password_only()
    {
        var p = await _factory.Data.PatientAsync("Awa Diop");
        var phone = NewPhone();
        var login = await phone.Client.PostFormAsync("/patient", new()
        {
            ["Input.AccessKey"] = p.Key, ["Input.Password"] = p.Password, ["Input.Remember"] = "true",
        });
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var setCookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(PhoneCookies.CookieName + "="));
        Assert.Contains("path=/", setCookie);
        Assert.Contains("secure", setCookie);
        Assert.Contains("samesite=strict", setCookie);
        Assert.Contains("httponly", setCookie);
        Assert.DoesNotContain("domain=", setCookie);
        Assert.DoesNotContain(p.Key, setCookie);
        await LogoutAsync(phone.Client);

        var page = await phone.Client.GetAsync("/patient");
        var html = await page.TextAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains($"A. D. — …{p.Key[^4..]}", html);
        Assert.Contains("href=\"/patient?remembered=1\"", html);
        Assert.Contains("Oublier ce téléphone", html);
        Assert.DoesNotContain(p.Key, html);
        Assert.DoesNotContain(CredentialGenerator.FormatKey(p.Key), html);

        var chosen = await (await phone.Client.GetAsync("/patient?remembered=1")).TextAsync();
        Assert.DoesNotContain("name=\"Input.AccessKey\"", chosen);
        Assert.Contains("name=\"remembered\" value=\"1\"", chosen);
        Assert.Contains("name=\"Input.Password\"", chosen);
        Assert.DoesNotContain(p.Key, chosen);
        Assert.DoesNotContain(CredentialGenerator.FormatKey(p.Key), chosen);

        var wrong = await phone.Client.PostFormAsync("/patient", new() { ["remembered"] = "1", ["Input.Password"] = "zzzzzzzz" }, "/patient?remembered=1");
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Contains("Clé d'accès ou mot de passe incorrect", await wrong.TextAsync());
        Assert.Equal(1, await _factory.EventCountAsync(AccessEventKinds.LoginFailure, p.AccessId));

        var right = await phone.Client.PostFormAsync("/patient", new() { ["remembered"] = "1", ["Input.Password"] = p.Password }, "/patient?remembered=1");
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.Equal("/patient/dashboard", right.Headers.Location!.OriginalString);
        Assert.Contains("Bonjour Awa Diop", await (await phone.Client.GetAsync("/patient/dashboard")).TextAsync());
    }

    [Fact]
    public async Task Without_the_checkbox_nothing_is_remembered_but_every_session_carries_the_phones_device_hash()
    {
        var p = await _factory.Data.PatientAsync();
        var phone = NewPhone();
        Assert.Equal(HttpStatusCode.Redirect, (await phone.Client.LoginFormAsync(p.Key, p.Password)).StatusCode);
        await LogoutAsync(phone.Client);
        Assert.Equal(HttpStatusCode.Redirect, (await phone.Client.LoginFormAsync(p.Key, p.Password)).StatusCode);

        var content = ReadPhone(phone.Value(PhoneCookies.CookieName)!);
        Assert.NotNull(content);
        Assert.Empty(content.Keys);
        var hashes = await _factory.WithDbAsync(db => db.PatientSessions.Where(s => s.PatientAccessId == p.AccessId).Select(s => s.DeviceHash).ToListAsync());
        Assert.Equal(2, hashes.Count);
        Assert.All(hashes, h => Assert.Equal(content.DeviceHash, h));
        Assert.Equal(64, content.DeviceHash.Length);

        await LogoutAsync(phone.Client);
        var html = await (await phone.Client.GetAsync("/patient")).TextAsync();
        Assert.DoesNotContain("remembered=", html);
        Assert.DoesNotContain("Oublier ce téléphone", html);
    }

    [Fact]
    public async Task A_tampered_or_oversized_cookie_is_ignored_and_replaced_on_the_next_success()
    {
        var p = await _factory.Data.PatientAsync();
        var phone = NewPhone();
        await RememberAsync(phone, p);
        var value = phone.Value(PhoneCookies.CookieName)!;
        var i = value.Length / 2;
        phone.Set(PhoneCookies.CookieName, value[..i] + (value[i] == 'A' ? 'B' : 'A') + value[(i + 1)..]);

        var page = await phone.Client.GetAsync("/patient");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.DoesNotContain("remembered=1", await page.TextAsync());
        var refused = await phone.Client.PostFormAsync("/patient", new() { ["remembered"] = "1", ["Input.Password"] = p.Password }, "/patient");
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("Clé d'accès ou mot de passe incorrect", await refused.TextAsync());
        Assert.Null(PortalData.SessionCookie(refused));

        phone.Set(PhoneCookies.CookieName, new string('A', 3500));
        var oversized = await phone.Client.GetAsync("/patient");
        Assert.Equal(HttpStatusCode.OK, oversized.StatusCode);
        Assert.DoesNotContain("remembered=1", await oversized.TextAsync());

        await RememberAsync(phone, p);
        Assert.Contains($"…{p.Key[^4..]}", await (await phone.Client.GetAsync("/patient")).TextAsync());
    }

    [Fact]
    public async Task An_expired_cookie_is_ignored()
    {
        var p = await _factory.Data.PatientAsync();
        var phone = NewPhone();
        await RememberAsync(phone, p);
        Assert.Contains("remembered=1", await (await phone.Client.GetAsync("/patient")).TextAsync());

        // The same content signed by the site's key ring, issued 2 days ago for 1 day (the expiry is inside the signed
        // value): built with a clock of its own rather than advancing the site's, which would run every periodic job.
        var content = ReadPhone(phone.Value(PhoneCookies.CookieName)!)!;
        var issuedBefore = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(_factory.Time.GetUtcNow().AddDays(-2));
        var old = new PhoneCookies(_factory.Services.GetRequiredService<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider>(),
            _factory.Services.GetRequiredService<CredentialProtector>(),
            Microsoft.Extensions.Options.Options.Create(new PortalOptions { DeviceCookieDays = 1 }), issuedBefore);
        var http = new DefaultHttpContext();
        old.Issue(http.Response, content);
        var expired = http.Response.Headers.SetCookie.ToString().Split(';')[0][(PhoneCookies.CookieName.Length + 1)..];
        phone.Set(PhoneCookies.CookieName, expired);
        Assert.Null(ReadPhone(expired));

        var page = await phone.Client.GetAsync("/patient");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.DoesNotContain("remembered=1", await page.TextAsync());
    }

    [Fact]
    public async Task A_sixth_key_replaces_the_oldest_and_five_are_kept()
    {
        var phone = NewPhone();
        var patients = new List<TestPatient>();
        for (var n = 0; n < 6; n++)
        {
            var p = await _factory.Data.PatientAsync();
            patients.Add(p);
            await RememberAsync(phone, p);
        }

        var html = await (await phone.Client.GetAsync("/patient")).TextAsync();
        Assert.DoesNotContain($"…{patients[0].Key[^4..]}", html);
        var positions = patients.Skip(1).Select(p => html.IndexOf($"…{p.Key[^4..]}", StringComparison.Ordinal)).ToList();
        Assert.All(positions, pos => Assert.True(pos > 0));
        Assert.Equal(positions.Order(), positions); // oldest first
        Assert.Contains("href=\"/patient?remembered=5\"", html);
        Assert.DoesNotContain("remembered=6", html);
        Assert.Equal(5, ReadPhone(phone.Value(PhoneCookies.CookieName)!)!.Keys.Count);
    }

    [Fact]
    public async Task A_key_regenerated_since_is_dropped_silently_and_its_entry_cannot_log_in()
    {
        var a = await _factory.Data.PatientAsync();
        var b = await _factory.Data.PatientAsync();
        var phone = NewPhone();
        await RememberAsync(phone, a);
        await RememberAsync(phone, b);
        await _factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<Cimef.Site.Data.CimefDb>();
            var access = await db.PatientAccesses.Include(x => x.Patient).SingleAsync(x => x.Id == a.AccessId);
            await sp.GetRequiredService<AccessProvisioning>().RegenerateAsync(access, TestData.System);
            await db.SaveChangesAsync();
        });
        var (_, newPassword) = await _factory.Data.CredentialsAsync(a.AccessId!.Value);

        // The stale entry is still first in the cookie: choosing it with the new password opens nothing.
        var refused = await phone.Client.PostFormAsync("/patient", new() { ["remembered"] = "1", ["Input.Password"] = newPassword }, "/patient");
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("Clé d'accès ou mot de passe incorrect", await refused.TextAsync());
        Assert.Null(PortalData.SessionCookie(refused));
        Assert.Equal(0, await _factory.WithDbAsync(db => db.PatientSessions.CountAsync(s => s.PatientAccessId == a.AccessId && s.EndedAt == null)));

        var page = await phone.Client.GetAsync("/patient");
        var html = await page.TextAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.DoesNotContain($"…{a.Key[^4..]}", html);
        Assert.Contains($"…{b.Key[^4..]}", html);
        Assert.DoesNotContain("remembered=2", html);
        Assert.Equal([b.AccessId!.Value], ReadPhone(phone.Value(PhoneCookies.CookieName)!)!.Keys.Select(k => k.AccessId));
    }

    [Fact]
    public async Task Forget_ends_every_session_of_this_phone_and_none_of_another_phone()
    {
        var a = await _factory.Data.PatientAsync();
        var b = await _factory.Data.PatientAsync();
        var phone = NewPhone();
        await RememberAsync(phone, b);
        Assert.Equal(HttpStatusCode.Redirect, (await phone.Client.LoginFormAsync(b.Key, b.Password)).StatusCode);
        var earlierSession = phone.Value(PatientSessions.CookieName)!;
        phone.Remove(PatientSessions.CookieName); // the phone still has b's session open in the database
        Assert.Equal(HttpStatusCode.Redirect, (await phone.Client.LoginFormAsync(a.Key, a.Password)).StatusCode);
        var other = NewPhone();
        Assert.Equal(HttpStatusCode.Redirect, (await other.Client.LoginFormAsync(a.Key, a.Password)).StatusCode);

        var noToken = await phone.Client.PostAsync("/patient/forget", new FormUrlEncodedContent(new Dictionary<string, string>()));
        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);

        var events = await _factory.EventsDuringAsync(async () =>
        {
            var forget = await phone.Client.PostFormAsync("/patient/forget", [], "/patient/dashboard");
            Assert.Equal(HttpStatusCode.Redirect, forget.StatusCode);
            Assert.Equal("/patient", forget.Headers.Location!.OriginalString);
            Assert.Equal("\"cache\", \"storage\"", string.Join(", ", forget.Headers.GetValues("Clear-Site-Data")));
            Assert.Contains(forget.Headers.GetValues("Set-Cookie"), c => c.StartsWith(PhoneCookies.CookieName + "=;") && c.Contains("expires=Thu, 01 Jan 1970"));
        });
        Assert.Equal(2, events.GetValueOrDefault(AccessEventKinds.PhoneForgotten)); // a and b's sessions from this phone

        var dashboard = await phone.Client.GetAsync("/patient/dashboard");
        Assert.Equal(HttpStatusCode.Redirect, dashboard.StatusCode);
        var replay = NewPhone();
        replay.Set(PatientSessions.CookieName, earlierSession);
        Assert.Equal(HttpStatusCode.Redirect, (await replay.Client.GetAsync("/patient/dashboard")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await other.Client.GetAsync("/patient/dashboard")).StatusCode);

        var reasons = await _factory.WithDbAsync(db => db.PatientSessions
            .Where(s => s.PatientAccessId == a.AccessId || s.PatientAccessId == b.AccessId).Select(s => s.EndReason).ToListAsync());
        Assert.Equal(2, reasons.Count(r => r == Cimef.Site.Pages.Portal.ForgetModel.EndReason));
        Assert.Equal(1, reasons.Count(r => r == null));

        var login = await (await phone.Client.GetAsync("/patient")).TextAsync();
        Assert.Contains("Ce téléphone a été oublié", login);
        Assert.DoesNotContain("remembered=", login);
    }

    [Fact]
    public async Task Forget_from_a_browser_with_no_phone_and_no_session_writes_nothing()
    {
        var stranger = NewPhone();
        var events = await _factory.EventsDuringAsync(async () =>
        {
            var forget = await stranger.Client.PostFormAsync("/patient/forget", [], "/patient");
            Assert.Equal(HttpStatusCode.Redirect, forget.StatusCode);
            Assert.Equal("/patient", forget.Headers.Location!.OriginalString);
        });
        Assert.Equal(0, events.GetValueOrDefault(AccessEventKinds.PhoneForgotten));
    }

    private async Task RememberAsync(Phone phone, TestPatient p)
    {
        var login = await phone.Client.PostFormAsync("/patient", new()
        {
            ["Input.AccessKey"] = p.Key, ["Input.Password"] = p.Password, ["Input.Remember"] = "true",
        });
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        await LogoutAsync(phone.Client);
    }

    private static async Task LogoutAsync(HttpClient client) =>
        Assert.Equal(HttpStatusCode.Redirect, (await client.PostFormAsync("/patient/logout", [], "/patient/dashboard")).StatusCode);

    private PhoneCookies.Phone? ReadPhone(string value)
    {
        var http = new DefaultHttpContext();
        http.Request.Headers.Cookie = $"{PhoneCookies.CookieName}={value}";
        return _factory.Services.GetRequiredService<PhoneCookies>().Read(http.Request);
    }

    private Phone NewPhone()
    {
        var jar = new CookieJar();
        return new Phone(_factory.CreateDefaultClient(new Uri("https://localhost"), jar), jar);
    }

    /// <summary>A browser on one phone: a client whose cookies a test can read, change and remove.</summary>
    private sealed record Phone(HttpClient Client, CookieJar Jar)
    {
        private static readonly Uri Site = new("https://localhost/");
        public string? Value(string name) => Jar.Cookies.GetCookies(Site)[name]?.Value;
        public void Set(string name, string value) => Jar.Cookies.Add(new Cookie(name, value, "/", "localhost") { Secure = true });
        public void Remove(string name) => Jar.Cookies.GetCookies(Site)[name]!.Expired = true;
    }

    private sealed class CookieJar : DelegatingHandler
    {
        public CookieContainer Cookies { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var header = Cookies.GetCookieHeader(request.RequestUri!);
            if (header.Length > 0) request.Headers.Add("Cookie", header);
            var response = await base.SendAsync(request, ct);
            if (response.Headers.TryGetValues("Set-Cookie", out var values))
                foreach (var value in values) Cookies.SetCookies(request.RequestUri!, value);
            return response;
        }
    }
}
