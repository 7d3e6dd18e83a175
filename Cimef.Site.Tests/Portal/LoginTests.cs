using System.Net;
using Cimef.Site.Access;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Cimef.Site.Portal;

namespace Cimef.Site.Tests.Portal;

/// <summary>/patient: the login form, its messages and its bad-input paths.</summary>
public class LoginTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public LoginTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    [Fact]
    public async Task Login_page_has_the_two_fields_with_phone_friendly_attributes_and_no_inline_script()
    {
        var response = await _factory.NewClient().GetAsync("/patient");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.TextAsync();
        Assert.Contains("Clé d'accès (12 caractères)", html);
        Assert.Contains("Mot de passe (8 caractères)", html);
        Assert.Contains("maxlength=\"16\"", html);
        Assert.Contains("maxlength=\"8\"", html);
        Assert.Contains("autocomplete=\"username\"", html);
        Assert.Contains("autocomplete=\"current-password\"", html);
        Assert.Contains("autocapitalize=\"characters\"", html);
        Assert.Contains("inputmode=\"text\"", html);
        Assert.Matches("<script src=\"/js/portal-login\\.js\\?v=[^\"]+\" defer></script>", html);
        Assert.DoesNotMatch("<script>|<script [^>]*>[^<]+</script>|style=\"", html);
        Assert.DoesNotContain("htmx", html);
        Assert.DoesNotContain("@font-face", html);
    }

    [Fact]
    public async Task Key_in_the_query_string_prefills_the_key_field()
    {
        var p = await _factory.Data.PatientAsync();
        var lower = p.Key.ToLowerInvariant();
        var html = await (await _factory.NewClient().GetAsync($"/patient?key={lower[..4]}-{lower[4..]}")).TextAsync();
        Assert.Contains($"value=\"{CredentialGenerator.FormatKey(p.Key)}\"", html);
    }

    [Fact]
    public async Task Correct_credentials_in_lower_case_with_dashes_open_the_dashboard_with_a_secure_session_cookie()
    {
        var p = await _factory.Data.PatientAsync();
        var client = _factory.NewClient();
        var typed = $"{p.Key[..4].ToLowerInvariant()} {p.Key[4..8]}-{p.Key[8..].ToLowerInvariant()}";
        var response = await client.LoginFormAsync(typed, p.Password.ToUpperInvariant());

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/patient/dashboard", response.Headers.Location!.OriginalString);
        var setCookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("__Host-cimef_patient="));
        Assert.Contains("path=/", setCookie);
        Assert.Contains("secure", setCookie);
        Assert.Contains("samesite=strict", setCookie);
        Assert.Contains("httponly", setCookie);
        Assert.DoesNotContain("domain=", setCookie);
        var token = PortalData.SessionCookie(response)!;

        var (count, last, sessions) = await _factory.WithDbAsync(async db =>
        {
            var a = await db.PatientAccesses.SingleAsync(x => x.Id == p.AccessId);
            return (a.AccessCount, a.LastAccess, await db.PatientSessions.Where(s => s.PatientAccessId == p.AccessId).ToListAsync());
        });
        Assert.Equal(1, count);
        Assert.Equal(_factory.Time.GetUtcNow().UtcDateTime, last);
        var session = Assert.Single(sessions);
        Assert.Equal(PatientSessions.Hash(token), session.TokenHash);
        Assert.NotEqual(token, session.TokenHash);
        Assert.Equal(_factory.Time.GetUtcNow().UtcDateTime.AddHours(12), session.ExpiresAt);

        var dashboard = await client.GetAsync("/patient/dashboard");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains(p.FullName, await dashboard.TextAsync());
    }

    [Fact]
    public async Task Wrong_password_and_unknown_key_get_the_same_status_and_message()
    {
        var p = await _factory.Data.PatientAsync();
        var wrong = await _factory.NewClient().LoginFormAsync(p.Key, "zzzz2222");
        var unknown = await _factory.NewClient().LoginFormAsync("ZZZZ-ZZZZ-ZZZZ", p.Password);
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Equal(wrong.StatusCode, unknown.StatusCode);
        var a = await wrong.TextAsync();
        var b = await unknown.TextAsync();
        Assert.Contains(PatientMessages.InvalidCredentials, a);
        Assert.Contains(PatientMessages.InvalidCredentials, b);
        Assert.Contains("role=\"alert\"", a);
        Assert.False(wrong.Headers.Contains("Set-Cookie") && wrong.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("__Host-")));
        Assert.Equal(0, await _factory.WithDbAsync(db => db.PatientAccesses.Where(x => x.Id == p.AccessId).Select(x => x.AccessCount).SingleAsync()));
    }

    [Fact]
    public async Task Correct_credentials_on_a_deactivated_access_say_so_with_the_clinic_phone()
    {
        var p = await _factory.Data.PatientAsync();
        await _factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<Cimef.Site.Data.CimefDb>();
            var access = await db.PatientAccesses.SingleAsync(a => a.Id == p.AccessId);
            await sp.GetRequiredService<AccessProvisioning>().DeactivateAsync(access, null);
            await db.SaveChangesAsync();
        });
        var response = await _factory.NewClient().LoginFormAsync(p.Key, p.Password);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.TextAsync();
        Assert.Contains("Votre accès a été désactivé. Contactez le cabinet.", html);
        Assert.Contains("+221 33 800 00 00", html);

        var wrong = await _factory.NewClient().LoginFormAsync(p.Key, "zzzz2222");
        Assert.Contains(PatientMessages.InvalidCredentials, await wrong.TextAsync());
    }

    [Theory]
    [InlineData("", "", "Saisissez votre clé d'accès.")]
    [InlineData("ABCDEFGHJKMN", "", "Saisissez votre mot de passe.")]
    [InlineData("ABCDEFGHJKMNABCDEFGHJKMNABCDEFGHJKMNABCDEFGHJKMN", "abcdefgh", "Ce champ est trop long.")]
    [InlineData("ABCDEFGHJKMN", "abcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefghX", "Ce champ est trop long.")]
    [InlineData("ABCD\r\nEFGH", "abc\r\ndef", "Clé d'accès ou mot de passe incorrect")]
    [InlineData("' OR 1=1 --", "x' OR '1'='1", "Clé d'accès ou mot de passe incorrect")]
    [InlineData("\"; DROP TABLE PatientAccesses; --", "<script>", "Clé d'accès ou mot de passe incorrect")]
    public async Task Bad_input_gets_a_french_message_and_never_a_500(string key, string password, string message)
    {
        var p = await _factory.Data.PatientAsync();
        var sessionsBefore = await _factory.WithDbAsync(db => db.PatientSessions.CountAsync());
        var response = await _factory.NewClient().LoginFormAsync(key, password);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.TextAsync();
        Assert.Contains(message, html);
        Assert.DoesNotContain("<script>", html);
        Assert.Equal(sessionsBefore, await _factory.WithDbAsync(db => db.PatientSessions.CountAsync()));
        Assert.Equal(p.Key, await _factory.WithDbAsync(db => db.PatientAccesses.Where(a => a.Id == p.AccessId).Select(a => a.AccessKey).SingleAsync()));
    }

    [Fact]
    public async Task Cross_site_post_without_antiforgery_is_refused()
    {
        var p = await _factory.Data.PatientAsync();
        var client = _factory.NewClient();
        var response = await client.PostAsync("/patient", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.AccessKey"] = p.Key,
            ["Input.Password"] = p.Password,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await _factory.EventCountAsync(AccessEventKinds.LoginSuccess, p.AccessId));
    }

    [Fact]
    public async Task A_signed_in_patient_visiting_the_login_page_goes_to_the_dashboard()
    {
        var p = await _factory.Data.PatientAsync();
        var client = await _factory.PatientClientAsync(p);
        var response = await client.GetAsync("/patient");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/patient/dashboard", response.Headers.Location!.OriginalString);
    }
}
