using System.Net.Http.Headers;
using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Portal;

/// <summary>Every patient action, refusals included, writes exactly one AccessEvent of its kind.</summary>
public class PatientEventsTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public PatientEventsTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    private async Task AssertOneEventAsync(string kind, Func<Task> action)
    {
        var added = await _factory.EventsDuringAsync(action);
        Assert.Equal(new Dictionary<string, int> { [kind] = 1 }, added);
    }

    [Fact]
    public async Task Login_success_failure_unknown_key_disabled_and_throttle_each_write_one_event()
    {
        var p = await _factory.Data.PatientAsync();
        await AssertOneEventAsync(AccessEventKinds.LoginSuccess, () => _factory.NewClient().LoginJsonAsync(p.Key, p.Password));
        await AssertOneEventAsync(AccessEventKinds.LoginFailure, () => _factory.NewClient().LoginFormAsync(p.Key, "zzzz2222"));
        await AssertOneEventAsync(AccessEventKinds.LoginFailure, () => _factory.NewClient().LoginJsonAsync("QQQQ-RRRR-WXYZ", "zzzz2222"));
        var unknown = await _factory.WithDbAsync(db => db.AccessEvents.OrderByDescending(e => e.Id).FirstAsync());
        Assert.Null(unknown.PatientAccessId);
        Assert.Equal("WXYZ", unknown.KeySuffix);

        for (var i = 0; i < 4; i++) await _factory.NewClient().LoginJsonAsync(p.Key, "zzzz2222");
        await AssertOneEventAsync(AccessEventKinds.LoginThrottled, () => _factory.NewClient().LoginJsonAsync(p.Key, p.Password));
        await AssertOneEventAsync(AccessEventKinds.LoginThrottled, () => _factory.NewClient().LoginFormAsync(p.Key, p.Password));

        var d = await _factory.Data.PatientAsync();
        await _factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<CimefDb>();
            await sp.GetRequiredService<AccessProvisioning>().DeactivateAsync(await db.PatientAccesses.SingleAsync(a => a.Id == d.AccessId), null);
            await db.SaveChangesAsync();
        });
        await AssertOneEventAsync(AccessEventKinds.LoginDisabled, () => _factory.NewClient().LoginFormAsync(d.Key, d.Password));
    }

    [Fact]
    public async Task Logout_and_report_list_views_each_write_one_event()
    {
        var p = await _factory.Data.PatientAsync();
        var client = await _factory.PatientClientAsync(p);
        await AssertOneEventAsync(AccessEventKinds.ReportList, () => client.GetAsync("/patient/dashboard"));
        await AssertOneEventAsync(AccessEventKinds.ReportList, () => client.HtmxGetAsync("/patient/dashboard"));
        await AssertOneEventAsync(AccessEventKinds.ReportList, () => client.GetAsync("/api/reports/patient/"));
        var token = await client.GetAntiforgeryTokenAsync("/patient/dashboard");
        await AssertOneEventAsync(AccessEventKinds.Logout, () => client.PostAsync("/patient/logout",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token })));
        // A second logout with the ended session changes nothing.
        Assert.Empty(await _factory.EventsDuringAsync(() => client.PostJsonAsync("/api/patients/portal/logout/", new { })));
    }

    [Fact]
    public async Task Downloads_and_each_kind_of_refusal_write_one_event()
    {
        var p = await _factory.Data.PatientAsync();
        var other = await _factory.Data.PatientAsync();
        var id = await _factory.Data.ReportAsync(p);
        var withdrawn = await _factory.Data.ReportAsync(p, active: false);
        var missing = await _factory.Data.ReportAsync(p);
        var theirs = await _factory.Data.ReportAsync(other);
        await _factory.WithScopeAsync(async sp =>
        {
            var report = await sp.GetRequiredService<CimefDb>().PatientReports.SingleAsync(r => r.Id == missing);
            await sp.GetRequiredService<ReportStore>().DeleteAsync(report.StoredFileName);
        });
        var client = await _factory.PatientClientAsync(p);

        await AssertOneEventAsync(AccessEventKinds.Download, () => client.GetAsync($"/patient/reports/{id}"));
        await AssertOneEventAsync(AccessEventKinds.Download, () => client.GetAsync($"/api/reports/download/{id}/"));
        var range = new HttpRequestMessage(HttpMethod.Get, $"/patient/reports/{id}");
        range.Headers.Range = new RangeHeaderValue(100, null);
        // A continuation delivers bytes: it is accounted as one download_part event, not a download.
        await AssertOneEventAsync(AccessEventKinds.DownloadPart, () => client.SendAsync(range));
        await AssertOneEventAsync(AccessEventKinds.DownloadDenied, () => client.GetAsync($"/patient/reports/{theirs}"));
        await AssertOneEventAsync(AccessEventKinds.DownloadDenied, () => client.GetAsync("/api/reports/download/424242/"));
        await AssertOneEventAsync(AccessEventKinds.DownloadGone, () => client.GetAsync($"/patient/reports/{withdrawn}"));
        await AssertOneEventAsync(AccessEventKinds.FileMissing, () => client.GetAsync($"/patient/reports/{missing}"));

        var denied = await _factory.WithDbAsync(db => db.AccessEvents.Where(e => e.Kind == AccessEventKinds.DownloadDenied).OrderBy(e => e.Id).FirstAsync());
        Assert.Equal(p.AccessId, denied.PatientAccessId);
        Assert.Null(denied.ReportId);
    }

    [Fact]
    public async Task Events_never_hold_a_password_or_a_full_key()
    {
        var p = await _factory.Data.PatientAsync();
        await _factory.NewClient().LoginFormAsync(p.Key, "zzzz2222");
        await _factory.NewClient().LoginJsonAsync(p.Key, p.Password);
        var client = _factory.NewClient();
        client.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 " + new string('x', 400));
        await client.LoginJsonAsync(p.Key, p.Password);
        var events = await _factory.WithDbAsync(db => db.AccessEvents.Where(e => e.PatientAccessId == p.AccessId).ToListAsync());
        Assert.Equal(3, events.Count);
        foreach (var e in events)
        {
            var all = string.Join("|", e.Kind, e.KeySuffix, e.ClientIp, e.UserAgent, e.Detail);
            Assert.DoesNotContain(p.Key, all);
            Assert.DoesNotContain(p.Password, all);
            Assert.DoesNotContain("zzzz2222", all);
            Assert.Equal(p.Key[^4..], e.KeySuffix);
            Assert.Equal(CimefFactory.Start.UtcDateTime.Date, e.At.Date);
        }
        Assert.Contains(events, e => e.UserAgent is { Length: 200 });
    }
}
