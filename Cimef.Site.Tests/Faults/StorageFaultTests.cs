using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Cimef.Site.Reports;
using static Cimef.Site.Tests.Reports.ReportTestData;

namespace Cimef.Site.Tests.Faults;

/// <summary>
/// A reports folder on a full disk: a 64 KiB tmpfs mounted over data/reports where the system allows it (Linux, root),
/// otherwise a ReportStore whose file writes fail with ENOSPC exactly as the kernel reports it.
/// </summary>
public sealed class FullDiskFactory : CimefFactory
{
    private readonly string _reports;
    public bool RealTmpfs { get; }

    public FullDiskFactory()
    {
        _reports = Path.Combine(DataDir, "reports");
        Directory.CreateDirectory(_reports);
        RealTmpfs = Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", _reports);
        if (!RealTmpfs)
            ConfigureTestServices = s =>
            {
                s.RemoveAll<ReportStore>();
                s.AddSingleton<ReportStore, FullDiskReportStore>();
            };
    }

    protected override void Dispose(bool disposing)
    {
        if (RealTmpfs) Run("umount", _reports);
        base.Dispose(disposing);
    }

    private static bool Run(string command, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(command) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            p.WaitForExit(10_000);
            return p.HasExited && p.ExitCode == 0;
        }
        catch (Win32Exception)
        {
            return false; // no such command (Windows)
        }
    }

    private sealed class FullDiskReportStore(IOptions<StorageOptions> storage, IOptions<ClusterOptions> cluster, TimeProvider time) : FileSystemReportStore(storage, cluster, time)
    {
        protected override FileStream CreateTempFile(string path) => new NoSpaceLeft(path);
    }

    /// <summary>Accepts the first 16 KiB, then fails as write(2) does on a full disk (ENOSPC = 28).</summary>
    private sealed class NoSpaceLeft(string path) : FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous)
    {
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Length + buffer.Length > 16 * 1024) throw new IOException($"No space left on device : '{Name}'", 28);
            await base.WriteAsync(buffer, cancellationToken);
        }
    }
}

public class FullDiskTests(FullDiskFactory factory) : IClassFixture<FullDiskFactory>
{
    [Fact]
    public async Task An_upload_on_a_full_disk_answers_a_french_error_and_leaves_no_row_and_no_partial_file()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var client = factory.NewClient();
        client.UseBearer(await factory.Data.ApiTokenAsync(Roles.Doctor));
        var big = new byte[256 * 1024];
        PdfBytes.CopyTo(big, 0);

        var response = await client.PostAsync("/api/reports/", Multipart(new("invoice_number", s.InvoiceNumber), new("title", "IRM"), new("file", FileName: "irm.pdf", Bytes: big)));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(ReportPublisher.DiskFull, json.RootElement.GetProperty("error").GetString());
        Assert.False(await factory.WithDbAsync(db => db.PatientReports.AnyAsync()));
        Assert.False(await factory.WithDbAsync(db => db.OutboxMessages.AnyAsync(m => m.Kind == OutboxKind.ReportAvailable)));
        Assert.Empty(VisibleReportFiles(factory)); // not even a temp file

        // A small report still fits (the disk is full, not broken) — only on the real tmpfs, where space is real.
        if (factory.RealTmpfs)
        {
            var small = await client.PostAsync("/api/reports/", Multipart(new("invoice_number", s.InvoiceNumber), new("title", "IRM"), new("file", FileName: "irm.pdf", Bytes: PdfBytes)));
            Assert.Equal(HttpStatusCode.Created, small.StatusCode);
        }
    }
}

public class UnwritableReportsFolderTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    /// <summary>
    /// Tests run as root, for whom a read-only mode blocks nothing: a plain FILE named like this month's
    /// folder (data/reports/2026/11) makes the folder impossible to create or write into, for any user.
    /// </summary>
    private string BlockThisMonthsFolder()
    {
        _ = factory.Services;
        var year = Path.Combine(factory.DataDir, "reports", "2026");
        Directory.CreateDirectory(year);
        var blocker = Path.Combine(year, "11");
        if (!File.Exists(blocker)) File.WriteAllText(blocker, "not a folder");
        return blocker;
    }

    [Fact]
    public async Task An_api_upload_into_an_unwritable_reports_folder_answers_a_french_503_and_saves_nothing()
    {
        var blocker = BlockThisMonthsFolder();
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var client = factory.NewClient();
        client.UseBearer(await factory.Data.ApiTokenAsync(Roles.Doctor));

        var response = await client.PostAsync("/api/reports/", Multipart(new("invoice_number", s.InvoiceNumber), new("title", "IRM"), new("file", FileName: "irm.pdf", Bytes: PdfBytes)));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(ReportPublisher.FolderUnwritable, json.RootElement.GetProperty("error").GetString());
        Assert.False(await factory.WithDbAsync(db => db.PatientReports.AnyAsync(r => r.InvoiceId == s.InvoiceId)));
        Assert.False(await factory.WithDbAsync(db => db.OutboxMessages.AnyAsync(m => m.PatientId == s.PatientId && m.Kind == OutboxKind.ReportAvailable)));
        Assert.Equal(new[] { blocker }, VisibleReportFiles(factory));
    }

    [Fact]
    public async Task The_upload_page_shows_the_same_french_message_instead_of_an_error_page()
    {
        var blocker = BlockThisMonthsFolder();
        var doctor = await factory.StaffClientAsync(Roles.Doctor);
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var token = await doctor.GetAntiforgeryTokenAsync($"/Reports?patientId={s.PatientId}");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/Reports")
        {
            Content = Multipart(new("__RequestVerificationToken", token), new("PatientId", s.PatientId.ToString()),
                new("Input.InvoiceId", s.InvoiceId.ToString()), new("Input.Title", "Échographie"),
                new("Files", FileName: "echo.pdf", Bytes: PdfBytes)),
        };
        request.Headers.Add("HX-Request", "true");

        var response = await doctor.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains(ReportPublisher.FolderUnwritable, html);
        Assert.DoesNotContain("Exception", html);
        Assert.False(await factory.WithDbAsync(db => db.PatientReports.AnyAsync(r => r.InvoiceId == s.InvoiceId)));
        Assert.Equal(new[] { blocker }, VisibleReportFiles(factory));
        if (!TestDatabase.IsPostgres) Assert.Equal("ok", Sqlite.IntegrityCheck(Path.Combine(factory.DataDir, "cimef.db")));
    }
}
