using System.ComponentModel.DataAnnotations;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.FrontDesk;
using Cimef.Site.Storage;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Cimef.Site.Reports;

namespace Cimef.Site.Pages.Reports;

/// <summary>
/// Doctor/Admin: upload one or several report files for a patient's invoice (cross-validated and released
/// automatically), and withdraw (reason required) or republish reports. Every action is audited.
/// </summary>
[Authorize(Policy = Policies.Reports)]
[ReportUpload]
public class IndexModel(CimefDb db, ReportPublisher publisher) : StaffPage
{
    public sealed class InputModel
    {
        public int? InvoiceId { get; set; }

        [Required(ErrorMessage = "Le titre est obligatoire.")]
        [StringLength(200, ErrorMessage = "Le titre ne doit pas dépasser 200 caractères.")]
        public string Title { get; set; } = "";
    }

    public sealed record PatientRow(int Id, string FullName, string Phone);
    public sealed record InvoiceRow(int Id, string Number, InvoiceStatus Status, DateTime CreatedAt, int Total);
    public sealed record ReportRow(int Id, string Title, string OriginalName, long Size, DateTime CreatedAt, string CreatedBy, bool IsActive,
        DateTime? WithdrawnAt, string? WithdrawalReason, FileIntegrity Integrity, string InvoiceNumber, int PatientId, string PatientName);
    public sealed record UploadResult(string FileName, bool Ok, string Message);

    [BindProperty(SupportsGet = true)] public int? PatientId { get; set; }
    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty] public InputModel Input { get; set; } = new();
    [BindProperty] public List<IFormFile> Files { get; set; } = [];

    public PatientRow? Patient { get; private set; }
    public IReadOnlyList<PatientRow> Candidates { get; private set; } = [];
    public IReadOnlyList<InvoiceRow> Invoices { get; private set; } = [];
    public IReadOnlyList<ReportRow> Reports { get; private set; } = [];
    public ReportPublisher.Validation? Validation { get; private set; }
    public IReadOnlyList<UploadResult> Results { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(int? invoiceId)
    {
        Input.InvoiceId = invoiceId;
        await LoadAsync();
        return Page();
    }

    /// <summary>htmx: live patient search (name or phone).</summary>
    public async Task<IActionResult> OnGetPatientsAsync()
    {
        Candidates = await SearchAsync(Q);
        return this.PageOrPartial("_PatientResults", this);
    }

    /// <summary>htmx: the cross-validation verdict for the chosen patient and invoice.</summary>
    public async Task<IActionResult> OnGetCheckAsync(int? invoiceId, [FromQuery(Name = "Input.InvoiceId")] int? selected)
    {
        if (PatientId is int pid) Validation = await publisher.CrossValidateAsync(pid, invoiceId ?? selected);
        return this.PageOrPartial("_Validation", this);
    }

    /// <summary>htmx: the reports list, refreshed after an upload.</summary>
    public async Task<IActionResult> OnGetListAsync()
    {
        await LoadAsync();
        return this.PageOrPartial("_ReportRows", this);
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (PatientId is null) ModelState.AddModelError(nameof(PatientId), "Choisissez d'abord le patient.");
        if (Files.Count == 0) ModelState.AddModelError(nameof(Files), "Choisissez au moins un fichier.");
        if (Files.Count > 20) ModelState.AddModelError(nameof(Files), "20 fichiers au plus par envoi.");
        if (!ModelState.IsValid)
        {
            if (Request.WantsFragment())
            {
                Results = ModelState.Values.SelectMany(v => v.Errors).Select(e => new UploadResult("", false, e.ErrorMessage)).ToList();
                return Partial("_UploadResults", this);
            }
            await LoadAsync();
            return Page();
        }

        var results = new List<UploadResult>();
        foreach (var file in Files)
        {
            var title = Files.Count == 1 ? Input.Title : $"{Input.Title} — {FileTypes.SafeOriginalName(file.FileName)}";
            if (title.Length > 200) title = title[..200];
            await using var content = file.OpenReadStream();
            var r = await publisher.UploadAsync(PatientId!.Value, Input.InvoiceId, title, file.FileName, content, User, HttpContext.RequestAborted);
            results.Add(new UploadResult(FileTypes.SafeOriginalName(file.FileName),
                r.Outcome == ReportPublisher.Outcome.Published, r.Message));
        }
        Results = results;
        return await DoneAsync((results.All(r => r.Ok) ? "" : "Erreur : ") + string.Join(" · ", results.Select(r => $"{r.FileName} : {r.Message}")),
            () => Task.FromResult<IActionResult>(Partial("_UploadResults", this)), new { patientId = PatientId, invoiceId = Input.InvoiceId });
    }

    public async Task<IActionResult> OnPostWithdrawAsync(int id, string? reason)
    {
        var report = await db.PatientReports.SingleOrDefaultAsync(r => r.Id == id);
        if (report is null) return NotFound();
        var result = publisher.Withdraw(report, reason, User);
        if (result.Outcome == ReportPublisher.Outcome.StoredInactive) await db.SaveChangesAsync();
        return Done(result, report);
    }

    public async Task<IActionResult> OnPostPublishAsync(int id)
    {
        var report = await db.PatientReports.SingleOrDefaultAsync(r => r.Id == id);
        if (report is null) return NotFound();
        var result = await publisher.PublishAsync(report, User);
        if (result.Outcome == ReportPublisher.Outcome.Published) await db.SaveChangesAsync();
        return Done(result, report);
    }

    private IActionResult Done(ReportPublisher.Result result, PatientReport report)
    {
        var ok = result.Outcome is ReportPublisher.Outcome.Published or ReportPublisher.Outcome.StoredInactive;
        return Done((ok ? "" : "Erreur : ") + $"Rapport « {report.Title} » : {result.Message}", null, new { patientId = PatientId });
    }

    private async Task LoadAsync()
    {
        if (!string.IsNullOrWhiteSpace(Q)) Candidates = await SearchAsync(Q);
        if (PatientId is int pid)
        {
            Patient = await db.Patients.Where(p => p.Id == pid).Select(p => new PatientRow(p.Id, p.FullName, p.Phone)).SingleOrDefaultAsync();
            if (Patient is null) PatientId = null;
        }
        if (PatientId is int id)
        {
            Invoices = await db.Invoices.Where(i => i.PatientId == id && i.Status != InvoiceStatus.Cancelled)
                .OrderByDescending(i => i.Id)
                .Select(i => new InvoiceRow(i.Id, i.Number, i.Status, i.CreatedAt, i.Total)).ToListAsync();
            Validation = await publisher.CrossValidateAsync(id, Input.InvoiceId);
            if (Input.InvoiceId is null && Validation.Invoice is not null) Input.InvoiceId = Validation.Invoice.Id;
        }
        var reports = db.PatientReports.AsQueryable();
        if (PatientId is int forPatient) reports = reports.Where(r => r.PatientAccess.PatientId == forPatient);
        Reports = await reports.OrderByDescending(r => r.Id).Take(50)
            .Select(r => new ReportRow(r.Id, r.Title, r.OriginalName, r.Size, r.CreatedAt, r.CreatedBy, r.IsActive, r.WithdrawnAt,
                r.WithdrawalReason, r.Integrity, r.Invoice.Number, r.PatientAccess.PatientId, r.PatientAccess.Patient.FullName))
            .ToListAsync();
    }

    private async Task<IReadOnlyList<PatientRow>> SearchAsync(string? q)
    {
        if (Text.SearchForm(q).Length < 2) return [];
        var found = await PatientSearch.RunAsync(db.Database.GetDbConnection(), q, 1, HttpContext.RequestAborted);
        return found.Rows.Select(p => new PatientRow((int)p.Id, p.FullName, p.Phone)).ToList();
    }
}
