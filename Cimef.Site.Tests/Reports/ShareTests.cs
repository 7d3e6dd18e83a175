using System.Net;
using System.Security.Claims;
using System.Text.RegularExpressions;
using Cimef.Site.Access;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Cimef.Site.Reports;

namespace Cimef.Site.Tests.Reports;

/// <summary>« Partager avec mon médecin »: patient creates/revokes, doctor opens with the code and downloads; attacks.</summary>
public partial class ShareTests : IClassFixture<CimefFactory>
{
    private const string Invalid = "Ce lien de partage n'est plus valide";
    private readonly CimefFactory _factory;

    public ShareTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
    }

    private sealed record Shared(TestPatient Patient, int ReportId, HttpClient PatientClient, string Token, string Code, int ShareId, byte[] Bytes);

    private async Task<Shared> ShareAsync(int days = 7)
    {
        var p = await _factory.Data.PatientAsync();
        var bytes = Cimef.Site.Cli.DemoSeed.MinimalPdf("Compte rendu partagé");
        var reportId = await _factory.Data.ReportAsync(p, "Scanner thoracique", content: bytes);
        var client = await _factory.PatientClientAsync(p);
        var form = await client.GetAsync($"/patient/shares?report={reportId}");
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var created = await client.PostFormAsync($"/patient/shares?handler=Create&report={reportId}", new() { ["days"] = days.ToString() },
            tokenPage: $"/patient/shares?report={reportId}");
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var html = await created.TextAsync();
        var link = LinkRegex().Match(html);
        var code = CodeRegex().Match(html);
        Assert.True(link.Success && code.Success, "link and code shown once");
        var token = link.Groups[1].Value;
        var shareId = await _factory.WithDbAsync(db => db.ReportShares.Where(s => s.ReportId == reportId).Select(s => s.Id).SingleAsync());
        return new Shared(p, reportId, client, token, code.Groups[1].Value, shareId, bytes);
    }

    private Task<HttpResponseMessage> TypeCodeAsync(HttpClient doctor, string token, string code) =>
        doctor.PostFormAsync($"/s/{token}", new() { ["code"] = code }, tokenPage: "/patient"); // the login page always has a token

    private async Task<HttpClient> DoctorAsync(Shared s)
    {
        var doctor = _factory.NewClient();
        var r = await TypeCodeAsync(doctor, s.Token, s.Code);
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.Equal($"/s/{s.Token}", r.Headers.Location!.OriginalString);
        return doctor;
    }

    private static async Task AssertInvalidAsync(HttpResponseMessage r)
    {
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Contains(Invalid, await r.TextAsync());
    }

    [Fact]
    public async Task The_patients_history_names_the_share_by_the_day_it_was_created()
    {
        var s = await ShareAsync();
        var clock = _factory.Services.GetRequiredService<Cimef.Site.Web.ClinicClock>();
        var created = await _factory.WithDbAsync(db => db.ReportShares.Where(x => x.Id == s.ShareId).Select(x => x.CreatedAt).SingleAsync());
        _factory.Time.Advance(TimeSpan.FromDays(3));
        await DoctorAsync(s);

        var patient = await _factory.PatientClientAsync(s.Patient); // the earlier session has idled out
        var html = await (await patient.GetAsync("/patient/history")).TextAsync();
        Assert.Contains($"Scanner thoracique — ouvert via le lien partagé du {clock.ToLocal(created):dd/MM}", html);
        Assert.DoesNotContain($"ouvert via le lien partagé du {clock.ToLocal(created.AddDays(3)):dd/MM}", html);
    }

    [Fact]
    public async Task Patient_shares_doctor_opens_with_the_code_and_downloads_only_that_report()
    {
        var s = await ShareAsync();
        Assert.True(s.Token.Length >= 22);
        var html = await (await s.PatientClient.GetAsync("/patient/shares")).TextAsync();
        Assert.Contains("Scanner thoracique", html);
        Assert.DoesNotContain(s.Code, html); // shown once only
        var stored = await _factory.WithDbAsync(db => db.ReportShares.SingleAsync(x => x.Id == s.ShareId));
        Assert.Equal(ReportShares.HashToken(s.Token), stored.TokenHash);
        Assert.Equal(TimeSpan.FromDays(7), stored.ExpiresAt - stored.CreatedAt);

        var doctor = _factory.NewClient();
        var codeForm = await doctor.GetAsync($"/s/{s.Token}");
        Assert.Equal(HttpStatusCode.OK, codeForm.StatusCode);
        Assert.DoesNotContain("Scanner thoracique", await codeForm.TextAsync()); // nothing before the code
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{s.Token}/rapport/{s.ReportId}")).StatusCode);

        var events = await _factory.EventsDuringAsync(async () =>
        {
            await DoctorAsync(s);
        });
        Assert.Equal(1, events[AccessEventKinds.ShareOpen]);
        doctor = await DoctorAsync(s);
        var page = await doctor.GetAsync($"/s/{s.Token}");
        Assert.Contains("Scanner thoracique", await page.TextAsync());

        var download = await doctor.GetAsync($"/s/{s.Token}/rapport/{s.ReportId}");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(s.Bytes, await download.Content.ReadAsByteArrayAsync());
        Assert.True(download.Headers.CacheControl!.NoStore);
        Assert.Equal("bytes", download.Headers.AcceptRanges.Single());
        var ranged = new HttpRequestMessage(HttpMethod.Get, $"/s/{s.Token}/rapport/{s.ReportId}");
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(10, 19);
        var part = await doctor.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(s.Bytes[10..20], await part.Content.ReadAsByteArrayAsync());

        var ev = await _factory.WithDbAsync(db => db.AccessEvents.Where(e => e.Kind == AccessEventKinds.ShareDownload && e.ReportId == s.ReportId).ToListAsync());
        Assert.Single(ev); // the range continuation is not a new download
        Assert.Equal(s.ShareId.ToString(), ev[0].Detail);
        Assert.Equal(s.Patient.AccessId, ev[0].PatientAccessId);
        Assert.Equal(0, await _factory.WithDbAsync(db => db.PatientReports.Where(r => r.Id == s.ReportId).Select(r => r.DownloadCount).SingleAsync()));

        // Another report of the same patient, through this share: 404.
        var other = await _factory.Data.ReportAsync(s.Patient, "Autre compte rendu");
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{s.Token}/rapport/{other}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{s.Token}/rapport/abc")).StatusCode);
    }

    [Fact]
    public async Task The_sms_and_whatsapp_links_carry_the_link_never_the_code()
    {
        var p = await _factory.Data.PatientAsync();
        var reportId = await _factory.Data.ReportAsync(p);
        var client = await _factory.PatientClientAsync(p);
        var r = await client.PostFormAsync($"/patient/shares?handler=Create&report={reportId}", new() { ["days"] = "1" },
            tokenPage: $"/patient/shares?report={reportId}", htmx: true);
        var html = await r.TextAsync();
        Assert.DoesNotContain("<html", html); // htmx gets the fragment
        var code = CodeRegex().Match(html).Groups[1].Value;
        var token = LinkRegex().Match(html).Groups[1].Value;
        var sms = Regex.Match(html, "href=\"(sms:[^\"]+)\"").Groups[1].Value;
        var wa = Regex.Match(html, "href=\"(https://wa.me/\\?text=[^\"]+)\"").Groups[1].Value;
        foreach (var href in new[] { sms, wa })
        {
            var text = Uri.UnescapeDataString(href);
            Assert.Contains("/s/" + token, text);
            Assert.DoesNotContain(code, text);
        }
    }

    [Fact]
    public async Task Guessed_and_malformed_tokens_get_the_same_404_page()
    {
        await ShareAsync();
        var anyone = _factory.NewClient();
        var random = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        foreach (var t in new[] { random, "abc", "%27%20OR%201%3D1--", new string('A', 5000), "..%2F..%2Fetc%2Fpasswd" })
        {
            var r = await anyone.GetAsync($"/s/{t}");
            Assert.True(r.StatusCode == HttpStatusCode.NotFound, $"{t[..Math.Min(t.Length, 30)]}: {r.StatusCode}");
            await AssertInvalidAsync(r);
        }
        await AssertInvalidAsync(await anyone.GetAsync("/s/"));
    }

    [Fact]
    public async Task Six_wrong_codes_lock_the_share_and_the_right_code_is_then_refused()
    {
        var s = await ShareAsync();
        var doctor = _factory.NewClient();
        var wrong = s.Code == "000000" ? "111111" : "000000";
        for (var i = 0; i < 4; i++)
            Assert.Equal(HttpStatusCode.BadRequest, (await TypeCodeAsync(doctor, s.Token, wrong)).StatusCode);
        await AssertInvalidAsync(await TypeCodeAsync(doctor, s.Token, wrong)); // the fifth locks
        await AssertInvalidAsync(await TypeCodeAsync(doctor, s.Token, wrong));
        await AssertInvalidAsync(await doctor.PostFormAsync($"/s/{s.Token}", new() { ["code"] = s.Code }, tokenPage: "/patient"));
        await AssertInvalidAsync(await doctor.GetAsync($"/s/{s.Token}"));
        var share = await _factory.WithDbAsync(db => db.ReportShares.SingleAsync(x => x.Id == s.ShareId));
        Assert.NotNull(share.LockedAt);
        Assert.Equal(5, share.FailedCodeCount);
        Assert.Equal(5, await _factory.WithDbAsync(db => db.AccessEvents.CountAsync(e => e.Kind == AccessEventKinds.ShareCodeFailure && e.Detail == s.ShareId.ToString())));
    }

    [Fact]
    public async Task Bad_codes_never_500()
    {
        var s = await ShareAsync();
        var doctor = _factory.NewClient();
        foreach (var code in new[] { "12a456", "", "1234567", new string('9', 100_000), "١٢٣٤٥٦", "' OR 1=1 --" })
        {
            var r = await TypeCodeAsync(doctor, s.Token, code);
            Assert.True(r.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{code.Length}: {r.StatusCode}");
        }
        var noToken = await doctor.PostAsync($"/s/{s.Token}", new FormUrlEncodedContent(new Dictionary<string, string> { ["code"] = s.Code }));
        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode); // antiforgery
    }

    [Fact]
    public async Task Revoked_share_ends_at_once_and_the_doctors_session_with_it()
    {
        var s = await ShareAsync();
        var doctor = await DoctorAsync(s);
        var r = await s.PatientClient.PostFormAsync($"/patient/shares?handler=Revoke&id={s.ShareId}", new(), tokenPage: "/patient/dashboard");
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.Contains("révoqué", await (await s.PatientClient.GetAsync("/patient/shares")).TextAsync());
        await AssertInvalidAsync(await doctor.GetAsync($"/s/{s.Token}"));
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{s.Token}/rapport/{s.ReportId}")).StatusCode);
        Assert.DoesNotContain("Scanner thoracique", await (await s.PatientClient.GetAsync("/patient/shares")).TextAsync());
    }

    [Fact]
    public async Task A_patient_cannot_see_or_revoke_another_patients_share()
    {
        var s = await ShareAsync();
        var other = await _factory.Data.PatientAsync();
        var client = await _factory.PatientClientAsync(other);
        var r = await client.PostFormAsync($"/patient/shares?handler=Revoke&id={s.ShareId}", new(), tokenPage: "/patient/dashboard");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/patient/shares?report={s.ReportId}")).StatusCode);
        var create = await client.PostFormAsync($"/patient/shares?handler=Create&report={s.ReportId}", new() { ["days"] = "7" }, tokenPage: "/patient/dashboard");
        Assert.Equal(HttpStatusCode.NotFound, create.StatusCode);
        Assert.DoesNotContain("Scanner thoracique", await (await client.GetAsync("/patient/shares")).TextAsync());
        Assert.Null(await _factory.WithDbAsync(db => db.ReportShares.Where(x => x.Id == s.ShareId).Select(x => x.RevokedAt).SingleAsync()));
        Assert.Equal(1, await _factory.WithDbAsync(db => db.ReportShares.CountAsync(x => x.ReportId == s.ReportId)));
    }

    [Fact]
    public async Task Wrong_durations_are_refused_in_french()
    {
        var p = await _factory.Data.PatientAsync();
        var reportId = await _factory.Data.ReportAsync(p);
        var client = await _factory.PatientClientAsync(p);
        foreach (var days in new[] { "2", "abc", "", "-1", new string('7', 10_000) })
        {
            var r = await client.PostFormAsync($"/patient/shares?handler=Create&report={reportId}", new() { ["days"] = days }, tokenPage: "/patient/dashboard");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Contains("Choisissez une durée", await r.TextAsync());
        }
        Assert.Equal(0, await _factory.WithDbAsync(db => db.ReportShares.CountAsync(x => x.ReportId == reportId)));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/patient/shares?report=x%27")).StatusCode);
    }

    [Fact]
    public async Task A_share_expires_after_its_duration()
    {
        var s = await ShareAsync(days: 1);
        var doctor = await DoctorAsync(s);
        _factory.Time.Advance(TimeSpan.FromHours(23));
        var stillValid = await _factory.NewClient().GetAsync($"/s/{s.Token}");
        Assert.Equal(HttpStatusCode.OK, stillValid.StatusCode);
        _factory.Time.Advance(TimeSpan.FromHours(1));
        await AssertInvalidAsync(await doctor.GetAsync($"/s/{s.Token}"));
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{s.Token}/rapport/{s.ReportId}")).StatusCode);
    }

    [Fact]
    public async Task The_doctors_session_is_short_lived_and_bound_to_its_share()
    {
        var a = await ShareAsync(days: 30);
        var b = await ShareAsync(days: 30);
        var doctor = await DoctorAsync(a);
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{b.Token}/rapport/{b.ReportId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await doctor.GetAsync($"/s/{a.Token}/rapport/{a.ReportId}")).StatusCode);
        _factory.Time.Advance(ReportShares.SessionLifetime + TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{a.Token}/rapport/{a.ReportId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await doctor.GetAsync($"/s/{a.Token}")).StatusCode); // the code form again
    }

    [Theory]
    [InlineData("deactivate")]
    [InlineData("regenerate")]
    [InlineData("withdraw")]
    public async Task A_share_ends_when_the_access_is_deactivated_or_regenerated_or_the_report_withdrawn(string what)
    {
        var s = await ShareAsync();
        var doctor = await DoctorAsync(s);
        await _factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<Cimef.Site.Data.CimefDb>();
            var staff = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "secretaire@cimef.sn")], "test"));
            var access = await db.PatientAccesses.SingleAsync(a => a.Id == s.Patient.AccessId);
            var provisioning = sp.GetRequiredService<AccessProvisioning>();
            switch (what)
            {
                case "deactivate": await provisioning.DeactivateAsync(access, staff); break;
                case "regenerate": await provisioning.RegenerateAsync(access, staff); break;
                default:
                    var report = await db.PatientReports.SingleAsync(r => r.Id == s.ReportId);
                    sp.GetRequiredService<ReportPublisher>().Withdraw(report, "erreur de dossier", staff);
                    break;
            }
            await db.SaveChangesAsync();
        });
        await AssertInvalidAsync(await doctor.GetAsync($"/s/{s.Token}"));
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{s.Token}/rapport/{s.ReportId}")).StatusCode);
        if (what == "deactivate")
        {
            // Reopening the access does not bring the share back.
            await _factory.WithScopeAsync(async sp =>
            {
                var db = sp.GetRequiredService<Cimef.Site.Data.CimefDb>();
                var access = await db.PatientAccesses.SingleAsync(a => a.Id == s.Patient.AccessId);
                await sp.GetRequiredService<AccessProvisioning>().ActivateAsync(access, regenerate: false, null);
                await db.SaveChangesAsync();
            });
            await AssertInvalidAsync(await _factory.NewClient().GetAsync($"/s/{s.Token}"));
        }
        Assert.NotNull(await _factory.WithDbAsync(db => db.ReportShares.Where(x => x.Id == s.ShareId).Select(x => x.RevokedAt).SingleAsync()));
    }

    [GeneratedRegex("<code id=\"share-link\">https?://[^<]*/s/([A-Za-z0-9_-]+)</code>")]
    private static partial Regex LinkRegex();

    [GeneratedRegex("<strong id=\"share-code\">([0-9]{6})</strong>")]
    private static partial Regex CodeRegex();
}
