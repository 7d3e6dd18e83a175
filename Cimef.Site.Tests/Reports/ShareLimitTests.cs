using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Reports;

/// <summary>A report has at most ten active shares, whoever creates them.</summary>
public class ShareLimitTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public ShareLimitTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
    }

    private Task<int> ActiveSharesAsync(int reportId) =>
        _factory.WithDbAsync(db => db.ReportShares.CountAsync(s => s.ReportId == reportId && s.RevokedAt == null));

    private static Task<HttpResponseMessage> CreateAsync(HttpClient patient, int reportId) =>
        patient.PostFormAsync($"/patient/shares?handler=Create&report={reportId}", new() { ["days"] = "7" }, tokenPage: $"/patient/shares?report={reportId}");

    [Fact]
    public async Task The_patient_cannot_create_an_eleventh_active_share_of_a_report()
    {
        var p = await _factory.Data.PatientAsync();
        var reportId = await _factory.Data.ReportAsync(p, "Scanner thoracique");
        var patient = await _factory.PatientClientAsync(p);
        for (var i = 0; i < 10; i++)
            Assert.Contains("share-code", await (await CreateAsync(patient, reportId)).TextAsync());
        Assert.Equal(10, await ActiveSharesAsync(reportId));

        var refused = await CreateAsync(patient, reportId);
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        var html = await refused.TextAsync();
        Assert.Contains("Ce compte rendu est déjà partagé 10 fois : révoquez un partage avant d'en créer un autre.", html);
        Assert.DoesNotContain("share-code", html);
        Assert.Equal(10, await ActiveSharesAsync(reportId));

        // Revoking one makes room for one more.
        var shareId = await _factory.WithDbAsync(db => db.ReportShares.Where(s => s.ReportId == reportId).Select(s => s.Id).FirstAsync());
        Assert.Equal(HttpStatusCode.Redirect, (await patient.PostFormAsync($"/patient/shares?handler=Revoke&id={shareId}", [], tokenPage: "/patient/shares")).StatusCode);
        Assert.Contains("share-code", await (await CreateAsync(patient, reportId)).TextAsync());
        Assert.Equal(10, await ActiveSharesAsync(reportId));
    }

    [Fact]
    public async Task Staff_cannot_create_an_eleventh_active_share_of_a_report()
    {
        var p = await _factory.Data.PatientAsync();
        var reportId = await _factory.Data.ReportAsync(p, "Scanner thoracique");
        var patient = await _factory.PatientClientAsync(p);
        for (var i = 0; i < 10; i++) await CreateAsync(patient, reportId);
        var staff = await _factory.StaffClientAsync(Roles.Secretary);
        var before = await _factory.WithDbAsync(db => db.OutboxMessages.CountAsync(m => m.PatientId == p.PatientId));
        var r = await staff.PostFormAsync($"/Patients/Shares/{p.PatientId}?handler=Create", new()
        {
            ["Input.ReportId"] = reportId.ToString(), ["Input.Days"] = "7", ["Input.Email"] = "dr@example.sn", ["Input.Phone"] = "77 444 55 66",
        }, tokenPage: $"/Patients/Shares/{p.PatientId}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains("Ce compte rendu est déjà partagé 10 fois : révoquez un partage avant d'en créer un autre.", await r.TextAsync());
        Assert.Equal(10, await ActiveSharesAsync(reportId));
        Assert.Equal(before, await _factory.WithDbAsync(db => db.OutboxMessages.CountAsync(m => m.PatientId == p.PatientId)));
        Assert.False(await _factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "share.create" && a.Detail!.Contains($"rapport {reportId}"))));
    }
}

/// <summary>Creating shares is capped per client address like the patient login (429 + Retry-After).</summary>
public class ShareCreationFloodTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public ShareCreationFloodTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "3";
    }

    [Fact]
    public async Task A_flood_of_share_creations_gets_429_and_creates_no_more()
    {
        var p = await _factory.Data.PatientAsync();
        var reportId = await _factory.Data.ReportAsync(p, "Scanner thoracique");
        var patient = await _factory.PatientClientAsync(p);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
            statuses.Add((await patient.PostFormAsync($"/patient/shares?handler=Create&report={reportId}", new() { ["days"] = "7" },
                tokenPage: $"/patient/shares?report={reportId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, statuses[0]);
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.Equal(statuses.Count(s => s == HttpStatusCode.OK), await _factory.WithDbAsync(db => db.ReportShares.CountAsync(s => s.ReportId == reportId)));
    }
}
