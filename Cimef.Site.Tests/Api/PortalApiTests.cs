using System.Net;
using System.Text;
using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Cimef.Site.Portal;

namespace Cimef.Site.Tests.Api;

/// <summary>The spec's patient JSON API: shapes, status codes and bad bodies.</summary>
public class PortalApiTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public PortalApiTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    [Fact]
    public async Task Login_profile_reports_download_and_logout_follow_the_spec()
    {
        var p = await _factory.Data.PatientAsync("Ndèye Fatou Sène");
        var bytes = Cimef.Site.Cli.DemoSeed.MinimalPdf("API");
        var id = await _factory.Data.ReportAsync(p, "Échographie", content: bytes);
        var client = _factory.NewClient();

        var login = await client.LoginJsonAsync(p.Key.ToLowerInvariant(), p.Password);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.NotNull(PortalData.SessionCookie(login));
        var json = await login.JsonAsync();
        Assert.True(json.GetProperty("success").GetBoolean());
        Assert.Equal(PatientMessages.LoginSuccess, json.GetProperty("message").GetString());
        Assert.Equal(p.PatientId, json.GetProperty("patient").GetProperty("id").GetInt32());
        Assert.Equal("Ndèye Fatou Sène", json.GetProperty("patient").GetProperty("full_name").GetString());
        Assert.Equal(p.Phone, json.GetProperty("patient").GetProperty("phone").GetString());
        var info = json.GetProperty("access_info");
        Assert.True(info.GetProperty("is_permanent").GetBoolean());
        Assert.Equal(1, info.GetProperty("access_count").GetInt32());
        Assert.Equal(_factory.Time.GetUtcNow().UtcDateTime, info.GetProperty("last_access").GetDateTime().ToUniversalTime());

        var profile = await (await client.GetAsync("/api/patients/portal/profile/")).JsonAsync();
        Assert.Equal("Ndèye Fatou Sène", profile.GetProperty("patient").GetProperty("full_name").GetString());
        Assert.Equal(1, profile.GetProperty("access_info").GetProperty("access_count").GetInt32());

        var list = await (await client.GetAsync("/api/reports/patient/")).JsonAsync();
        var report = Assert.Single(list.EnumerateArray());
        Assert.Equal(id, report.GetProperty("id").GetInt32());
        Assert.Equal("Échographie", report.GetProperty("title").GetString());
        Assert.EndsWith("Z", report.GetProperty("created_at").GetString());
        Assert.Equal(0, report.GetProperty("download_count").GetInt32());
        Assert.True(report.GetProperty("is_accessible").GetBoolean());
        Assert.Equal("PDF", report.GetProperty("file_type").GetString());
        Assert.Equal(bytes.Length, report.GetProperty("file_size").GetInt64());
        Assert.Equal($"/api/reports/download/{id}/", report.GetProperty("download_url").GetString());

        var file = await client.GetAsync($"/api/reports/download/{id}/");
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal(bytes, await file.Content.ReadAsByteArrayAsync());
        Assert.Equal("attachment", file.Content.Headers.ContentDisposition!.DispositionType);
        Assert.True(file.Headers.CacheControl!.NoStore);
        Assert.Equal(1, await _factory.WithDbAsync(db => db.PatientReports.Where(r => r.Id == id).Select(r => r.DownloadCount).SingleAsync()));

        var logout = await client.PostJsonAsync("/api/patients/portal/logout/", new { });
        Assert.Equal(HttpStatusCode.OK, logout.StatusCode);
        Assert.True((await logout.JsonAsync()).GetProperty("success").GetBoolean());
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/patients/portal/profile/")).StatusCode);
    }

    [Fact]
    public async Task Wrong_credentials_unknown_keys_and_deactivated_accesses_are_401_with_the_catalogue_messages()
    {
        var p = await _factory.Data.PatientAsync();
        var wrong = await _factory.NewClient().LoginJsonAsync(p.Key, "zzzz2222");
        var unknown = await _factory.NewClient().LoginJsonAsync("ZZZZ-ZZZZ-ZZZZ", p.Password);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal("Clé d'accès ou mot de passe incorrect", (await wrong.JsonAsync()).GetProperty("error").GetString());
        Assert.Equal("Clé d'accès ou mot de passe incorrect", (await unknown.JsonAsync()).GetProperty("error").GetString());

        await _factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<CimefDb>();
            await sp.GetRequiredService<AccessProvisioning>().DeactivateAsync(await db.PatientAccesses.SingleAsync(a => a.Id == p.AccessId), null);
            await db.SaveChangesAsync();
        });
        var disabled = await _factory.NewClient().LoginJsonAsync(p.Key, p.Password);
        Assert.Equal(HttpStatusCode.Unauthorized, disabled.StatusCode);
        Assert.Equal("Votre accès a été désactivé. Contactez le cabinet. Téléphone : +221 33 800 00 00",
            (await disabled.JsonAsync()).GetProperty("error").GetString());
        Assert.Null(PortalData.SessionCookie(disabled));
    }

    [Theory]
    [InlineData("{\"access_key\": \"ABCD", "application/json", 400)]
    [InlineData("not json at all", "application/json", 400)]
    [InlineData("[1,2,3]", "application/json", 400)]
    [InlineData("{\"access_key\": 12, \"password\": true}", "application/json", 400)]
    [InlineData("{}", "application/json", 400)]
    [InlineData("", "application/json", 400)]
    [InlineData("{\"access_key\":\"ABCDEFGHJKMNABCDEFGHJKMNABCDEFGHJKMNABCDEFGHJKMN\",\"password\":\"abcdefgh\"}", "application/json", 400)]
    [InlineData("access_key=ABCDEFGHJKMN&password=abcdefgh", "application/x-www-form-urlencoded", 415)]
    [InlineData("{\"access_key\":\"ABCDEFGHJKMN\",\"password\":\"abcdefgh\"}", "text/plain", 415)]
    public async Task Bodies_that_are_not_the_expected_json_are_refused_with_a_json_error(string body, string contentType, int status)
    {
        var response = await _factory.NewClient().PostAsync("/api/patients/portal/login/", new StringContent(body, Encoding.UTF8, contentType));
        Assert.Equal(status, (int)response.StatusCode);
        Assert.False(string.IsNullOrEmpty((await response.JsonAsync()).GetProperty("error").GetString()));
    }

    [Fact]
    public async Task A_huge_body_is_refused_without_a_500()
    {
        var body = "{\"access_key\":\"" + new string('A', 100_000) + "\",\"password\":\"x\"}";
        var response = await _factory.NewClient().PostAsync("/api/patients/portal/login/", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("ABCD\r\nEFGH\r\nJKMN", "abc\r\ndef")]
    [InlineData("' OR '1'='1' --", "' OR 1=1; DROP TABLE PatientAccesses; --")]
    public async Task Control_characters_and_sql_looking_text_are_just_wrong_credentials(string key, string password)
    {
        var p = await _factory.Data.PatientAsync();
        var response = await _factory.NewClient().LoginJsonAsync(key, password);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.True(await _factory.WithDbAsync(db => db.PatientAccesses.AnyAsync(a => a.Id == p.AccessId && a.AccessKey == p.Key)));
    }

    [Fact]
    public async Task Throttled_login_is_429_with_retry_after_in_header_and_body()
    {
        var p = await _factory.Data.PatientAsync();
        for (var i = 0; i < 5; i++) await _factory.NewClient().LoginJsonAsync(p.Key, "zzzz2222");
        var response = await _factory.NewClient().LoginJsonAsync(p.Key, p.Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var json = await response.JsonAsync();
        Assert.Equal(300, json.GetProperty("retry_after").GetInt32());
        Assert.Equal("300", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal("Trop de tentatives. Réessayez dans 5 minutes.", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Cookie_authenticated_posts_need_a_json_content_type()
    {
        var p = await _factory.Data.PatientAsync();
        var client = _factory.NewClient();
        await client.LoginJsonAsync(p.Key, p.Password);
        var crossSite = await client.PostAsync("/api/patients/portal/logout/", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, crossSite.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/patients/portal/profile/")).StatusCode);
    }

    [Fact]
    public async Task Api_downloads_follow_the_same_rules_as_the_page()
    {
        var a = await _factory.Data.PatientAsync();
        var b = await _factory.Data.PatientAsync();
        var theirs = await _factory.Data.ReportAsync(b);
        var withdrawn = await _factory.Data.ReportAsync(a, active: false);
        var client = _factory.NewClient();
        await client.LoginJsonAsync(a.Key, a.Password);

        var notTheirs = await client.GetAsync($"/api/reports/download/{theirs}/");
        var madeUp = await client.GetAsync("/api/reports/download/987654/");
        Assert.Equal(HttpStatusCode.NotFound, notTheirs.StatusCode);
        Assert.Equal(await madeUp.Content.ReadAsStringAsync(), await notTheirs.Content.ReadAsStringAsync());
        var gone = await client.GetAsync($"/api/reports/download/{withdrawn}/");
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        Assert.Equal("Ce rapport n'est plus accessible", (await gone.JsonAsync()).GetProperty("error").GetString());
        Assert.Empty((await (await client.GetAsync("/api/reports/patient/")).JsonAsync()).EnumerateArray());
        Assert.Equal(HttpStatusCode.Unauthorized, (await _factory.NewClient().GetAsync($"/api/reports/download/{theirs}/")).StatusCode);
    }
}
