using System.Net;
using System.Security.Cryptography;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Cimef.Site.Tests.Reports.ReportTestData;

namespace Cimef.Site.Tests.Reports;

/// <summary>The upload limit is 1 Mo here so the oversize case stays small.</summary>
public sealed class SmallUploadLimitFactory : CimefFactory
{
    public SmallUploadLimitFactory() => Settings["Reports:MaxUploadMegabytes"] = "1";
}

public class UploadReportTests(SmallUploadLimitFactory factory) : IClassFixture<SmallUploadLimitFactory>
{
    private async Task<HttpResponseMessage> UploadAsync(HttpClient client, TestPatient s, string fileName, byte[] bytes, bool htmx = false, params Part[] more)
    {
        var token = await client.GetAntiforgeryTokenAsync($"/Reports?patientId={s.PatientId}");
        var parts = new List<Part>
        {
            new("__RequestVerificationToken", token), new("PatientId", s.PatientId.ToString()),
            new("Input.InvoiceId", s.InvoiceId.ToString()), new("Input.Title", "Échographie abdominale"),
            new("Files", FileName: fileName, Bytes: bytes),
        };
        parts.AddRange(more);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/Reports") { Content = Multipart([.. parts]) };
        if (htmx) request.Headers.Add("HX-Request", "true");
        return await client.SendAsync(request);
    }

    [Theory]
    [InlineData("cr.pdf", "pdf", "application/pdf")]
    [InlineData("cliche.jpg", "jpg", "image/jpeg")]
    [InlineData("cliche.png", "png", "image/png")]
    public async Task A_doctor_uploads_each_allowed_type_and_it_is_stored_under_a_server_name(string name, string ext, string contentType)
    {
        var doctor = await factory.StaffClientAsync(Roles.Doctor);
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var bytes = ext switch { "pdf" => PdfBytes, "jpg" => Jpeg, _ => Png };

        var response = await UploadAsync(doctor, s, name, bytes);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var report = await factory.WithDbAsync(db => db.PatientReports.SingleAsync(r => r.InvoiceId == s.InvoiceId));
        Assert.True(report.IsActive);
        Assert.Equal(contentType, report.ContentType);
        Assert.Equal(name, report.OriginalName);
        Assert.Matches($@"^2026/11/[a-z0-9]{{24}}\.{ext}$", report.StoredFileName);
        var path = Path.Combine(factory.DataDir, "reports", report.StoredFileName);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), report.Sha256);
        Assert.Equal(bytes.Length, report.Size);
    }

    [Theory]
    [InlineData("vide.pdf", "empty", "Le fichier est vide.")]
    [InlineData("page.pdf", "html", "ressemble à une page web")]
    [InlineData("poly.pdf", "polyglot", "l'en-tête PDF n'est pas au début du fichier")]
    [InlineData("photo.gif", "gif", "seuls les PDF, JPEG et PNG sont acceptés")]
    public async Task Refused_files_get_a_french_message_and_leave_nothing_behind(string name, string kind, string message)
    {
        var doctor = await factory.StaffClientAsync(Roles.Doctor);
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var bytes = kind switch { "empty" => [], "html" => HtmlNamedPdf, "polyglot" => Polyglot, _ => "GIF89a\x01\x00"u8.ToArray() };
        var before = VisibleReportFiles(factory).Count();

        var response = await UploadAsync(doctor, s, name, bytes, htmx: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(message, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
        Assert.False(await factory.WithDbAsync(db => db.PatientReports.AnyAsync(r => r.InvoiceId == s.InvoiceId)));
        Assert.Equal(before, VisibleReportFiles(factory).Count());
    }

    [Fact]
    public async Task An_oversize_upload_is_refused_with_413_before_the_body_is_read()
    {
        var doctor = await factory.StaffClientAsync(Roles.Doctor);
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var big = new byte[2 * 1024 * 1024];
        PdfBytes.CopyTo(big, 0);

        var response = await UploadAsync(doctor, s, "gros.pdf", big);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("Fichier trop volumineux : la limite est de 1 Mo", WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
        Assert.False(await factory.WithDbAsync(db => db.PatientReports.AnyAsync(r => r.InvoiceId == s.InvoiceId)));
    }

    [Fact]
    public async Task Hostile_file_names_never_reach_the_disk()
    {
        var doctor = await factory.StaffClientAsync(Roles.Doctor);
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);

        var response = await UploadAsync(doctor, s, "../../../etc/evil\r\nX-Injected: 1.pdf", PdfBytes);

        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var report = await factory.WithDbAsync(db => db.PatientReports.SingleAsync(r => r.InvoiceId == s.InvoiceId));
        Assert.DoesNotContain("..", report.OriginalName);
        Assert.DoesNotContain("/", report.OriginalName);
        Assert.DoesNotContain("\r", report.OriginalName);
        Assert.DoesNotContain("\n", report.OriginalName);
        Assert.DoesNotContain("evil", report.StoredFileName);
        Assert.All(VisibleReportFiles(factory), f => Assert.StartsWith(Path.Combine(factory.DataDir, "reports"), f));
        Assert.False(File.Exists(Path.Combine(factory.DataDir, "etc", "evil")));
    }

    [Fact]
    public async Task A_raw_cr_lf_breaking_the_multipart_header_is_a_clean_400_and_stores_nothing()
    {
        var doctor = await factory.StaffClientAsync(Roles.Doctor);
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var token = await doctor.GetAntiforgeryTokenAsync($"/Reports?patientId={s.PatientId}");
        const string b = "cimef-boundary";
        var body = $"--{b}\r\nContent-Disposition: form-data; name=\"__RequestVerificationToken\"\r\n\r\n{token}\r\n" +
                   $"--{b}\r\nContent-Disposition: form-data; name=\"PatientId\"\r\n\r\n{s.PatientId}\r\n" +
                   $"--{b}\r\nContent-Disposition: form-data; name=\"Input.Title\"\r\n\r\nT\r\n" +
                   $"--{b}\r\nContent-Disposition: form-data; name=\"Files\"; filename=\"../evil\r\nX-Injected: 1.pdf\"\r\n\r\n%PDF-1.4 x\r\n--{b}--\r\n";
        var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={b}");

        var response = await doctor.PostAsync("/Reports", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Requête invalide", WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
        Assert.False(await factory.WithDbAsync(db => db.PatientReports.AnyAsync(r => r.InvoiceId == s.InvoiceId)));
    }

    [Fact]
    public async Task The_invoice_choice_shows_the_cross_validation_verdict_as_a_fragment()
    {
        var doctor = await factory.StaffClientAsync(Roles.Doctor);
        var paid = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var draft = await factory.Data.InvoiceAsync(paid, InvoiceStatus.Draft);
        var ok = WebUtility.HtmlDecode(await (await doctor.HtmxGetAsync($"/Reports?handler=Check&patientId={paid.PatientId}&invoiceId={paid.InvoiceId}")).Content.ReadAsStringAsync());
        Assert.Contains($"Clés validées avec facture {paid.InvoiceNumber}", ok);
        var no = WebUtility.HtmlDecode(await (await doctor.HtmxGetAsync($"/Reports?handler=Check&patientId={paid.PatientId}&Input.InvoiceId={draft.InvoiceId}")).Content.ReadAsStringAsync());
        Assert.Contains("Aucune facture trouvée avec ces clés", no);
        Assert.DoesNotContain("<html", no);
    }

    [Fact]
    public async Task Several_files_in_one_go_make_one_report_each()
    {
        var doctor = await factory.StaffClientAsync(Roles.Doctor);
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Sent);

        var response = await UploadAsync(doctor, s, "cr.pdf", PdfBytes, htmx: true, new Part("Files", FileName: "image.png", Bytes: Png));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains($"Clés validées avec facture {s.InvoiceNumber}", html);
        var reports = await factory.WithDbAsync(db => db.PatientReports.Where(r => r.InvoiceId == s.InvoiceId).ToListAsync());
        Assert.Equal(2, reports.Count);
        Assert.All(reports, r => Assert.True(r.IsActive));
    }

    [Fact]
    public async Task The_upload_page_is_for_doctors_and_admins_only()
    {
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var response = await secretary.GetAsync("/Reports");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/Denied", response.Headers.Location!.PathAndQuery);
        var admin = await factory.StaffClientAsync(Roles.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/Reports")).StatusCode);
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var page = await admin.GetStringAsync($"/Reports?patientId={s.PatientId}");
        var form = page[page.IndexOf("<form id=\"upload-form\"", StringComparison.Ordinal)..];
        form = form[..form.IndexOf("</form>", StringComparison.Ordinal)];
        Assert.Contains("enctype=\"multipart/form-data\"", form);
        Assert.Contains("name=\"__RequestVerificationToken\"", form);
        Assert.Contains("type=\"file\"", form);
        Assert.DoesNotContain("style=", page);
        Assert.DoesNotContain("<script>", page);
    }

    [Fact]
    public async Task The_patient_search_answers_htmx_with_a_fragment()
    {
        var doctor = await factory.StaffClientAsync(Roles.Doctor);
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid, name: "Mariama Cissé");
        var response = await doctor.HtmxGetAsync("/Reports?handler=Patients&q=cisse");
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("<html", html);
        Assert.Contains($"/Reports?patientId={s.PatientId}", html);
    }

    [Fact]
    public async Task Withdraw_needs_a_reason_then_hides_the_report_and_republish_restores_it_both_audited()
    {
        var doctor = await factory.StaffClientAsync(Roles.Doctor);
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var id = (await ReportTestData.UploadAsync(factory, s, PdfBytes)).Report!.Id;
        var page = $"/Reports?patientId={s.PatientId}";

        var noReason = await doctor.PostFormAsync($"/Reports?handler=Withdraw&id={id}&patientId={s.PatientId}", new() { ["reason"] = " " }, tokenPage: page);
        Assert.Equal(HttpStatusCode.Redirect, noReason.StatusCode);
        Assert.True(await factory.WithDbAsync(db => db.PatientReports.Where(r => r.Id == id).Select(r => r.IsActive).SingleAsync()));

        await doctor.PostFormAsync($"/Reports?handler=Withdraw&id={id}&patientId={s.PatientId}", new() { ["reason"] = "Erreur de patient" }, tokenPage: page);
        var withdrawn = await factory.WithDbAsync(db => db.PatientReports.SingleAsync(r => r.Id == id));
        Assert.False(withdrawn.IsActive);
        Assert.Equal("Erreur de patient", withdrawn.WithdrawalReason);
        Assert.True(File.Exists(Path.Combine(factory.DataDir, "reports", withdrawn.StoredFileName)));

        await doctor.PostFormAsync($"/Reports?handler=Publish&id={id}&patientId={s.PatientId}", new(), tokenPage: page);
        Assert.True(await factory.WithDbAsync(db => db.PatientReports.Where(r => r.Id == id).Select(r => r.IsActive).SingleAsync()));
        var actions = await factory.WithDbAsync(db => db.AuditEntries.Where(a => a.EntityType == "PatientReport" && a.EntityId == id.ToString()).Select(a => a.Action).ToListAsync());
        Assert.Contains("report.upload", actions);
        Assert.Contains("report.withdraw", actions);
        Assert.Contains("report.republish", actions);
    }
}
