using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Cimef.Site.Tests.Reports.ReportTestData;

namespace Cimef.Site.Tests.Reports;

public class CrossValidationTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public async Task A_paid_invoice_validates_the_keys_releases_the_report_and_queues_the_notification()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid, phone: "+221771234567");
        var doctor = await factory.StaffClientAsync(Roles.Doctor);
        var page = WebUtility.HtmlDecode(await doctor.GetStringAsync($"/Reports?patientId={s.PatientId}"));
        Assert.Contains($"Clés validées avec facture {s.InvoiceNumber}", page);

        var result = await UploadAsync(factory, s, PdfBytes);

        Assert.Equal($"Clés validées avec facture {s.InvoiceNumber}", result.Message);
        var report = await factory.WithDbAsync(db => db.PatientReports.SingleAsync(r => r.Id == result.Report!.Id));
        Assert.True(report.IsActive);
        var queued = await factory.WithDbAsync(db => db.OutboxMessages.Where(m => m.ReportId == report.Id).ToListAsync());
        Assert.Equal(2, queued.Count);
        Assert.All(queued, m => Assert.Equal((OutboxKind.ReportAvailable, OutboxStatus.Pending), (m.Kind, m.Status)));
        Assert.Contains(queued, m => m.Channel == OutboxChannel.Email && m.Recipient == "patient@example.sn");
        Assert.Contains(queued, m => m.Channel == OutboxChannel.Sms && m.Recipient == "+221771234567");
    }

    [Fact]
    public async Task No_access_refuses_the_upload_with_the_spec_message()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Draft);
        var before = VisibleReportFiles(factory).Count();
        var result = await UploadAsync(factory, s, PdfBytes);
        Assert.StartsWith("Aucune facture trouvée avec ces clés", result.Message);
        Assert.Null(result.Report);
        Assert.Equal(before, VisibleReportFiles(factory).Count());
    }

    [Fact]
    public async Task An_inactive_access_keeps_the_report_unpublished_and_notifies_nobody()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        await factory.WithDbAsync(db => db.PatientAccesses.Where(a => a.Id == s.AccessId).ExecuteUpdateAsync(u => u.SetProperty(a => a.IsActive, false)));
        var result = await UploadAsync(factory, s, PdfBytes);
        Assert.Contains("Accès patient désactivé", result.Message);
        Assert.False(result.Report!.IsActive);
        Assert.False(await factory.WithDbAsync(db => db.OutboxMessages.AnyAsync(m => m.ReportId == result.Report.Id)));
    }

    [Fact]
    public async Task A_draft_invoice_does_not_validate_even_when_the_patient_has_an_access()
    {
        var paid = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var draft = await factory.Data.InvoiceAsync(paid, InvoiceStatus.Draft);
        var result = await UploadAsync(factory, draft with { AccessId = paid.AccessId }, PdfBytes);
        Assert.Contains("Aucune facture trouvée avec ces clés", result.Message);
        Assert.False(result.Report!.IsActive);
    }

    [Fact]
    public async Task Another_patients_invoice_is_refused()
    {
        var mine = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var theirs = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var result = await UploadAsync(factory, mine with { InvoiceId = theirs.InvoiceId }, PdfBytes);
        Assert.StartsWith("Aucune facture trouvée avec ces clés", result.Message);
        Assert.Null(result.Report);
    }

    [Fact]
    public async Task An_unpublished_report_is_published_once_the_invoice_is_paid()
    {
        var paid = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var draft = await factory.Data.InvoiceAsync(paid, InvoiceStatus.Draft);
        var report = (await UploadAsync(factory, draft, PdfBytes)).Report!;
        await factory.WithDbAsync(db => db.Invoices.Where(i => i.Id == draft.InvoiceId).ExecuteUpdateAsync(u => u
            .SetProperty(i => i.Status, InvoiceStatus.Paid).SetProperty(i => i.PatientAccessId, paid.AccessId)));

        var token = await factory.Data.ApiTokenAsync(Roles.Doctor);
        var client = factory.NewClient();
        client.UseBearer(token);
        var response = await client.PutJsonAsync($"/api/reports/{report.Id}/", new { is_active = true });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("is_active").GetBoolean());
        Assert.True(await factory.WithDbAsync(db => db.OutboxMessages.AnyAsync(m => m.ReportId == report.Id && m.Kind == OutboxKind.ReportAvailable)));
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "report.publish" && a.EntityId == report.Id.ToString())));
    }
}
