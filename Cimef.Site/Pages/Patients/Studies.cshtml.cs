using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Imaging;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Pages.Patients;

/// <summary>
/// « Examens d'imagerie » of a patient: the studies linked to them (« Délier » when one is not theirs), and a search
/// of the PACS by name and date to link a study by hand to one of their invoices. Every view is audited (it shows
/// the PACS's patient names); 404 when imaging is off.
/// </summary>
[Authorize(Policy = Policies.FrontDesk)]
public class StudiesModel(CimefDb db, IOptions<ImagingOptions> options, IServiceProvider services, TimeProvider time) : StaffPage
{
    public sealed record Row(int Id, string OrthancId, DateOnly? Date, string Modality, string Description, int Images, string? Accession,
        string? InvoiceNumber, StudyLinkSource? Source, string? DicomName);

    public sealed record Found(string OrthancId, DateOnly? Date, string Description, string? Accession, string? DicomName, int? LinkedPatientId);

    public sealed record InvoiceOption(int Id, string Number);

    public Patient Patient { get; private set; } = null!;
    public IReadOnlyList<Row> Linked { get; private set; } = [];
    public IReadOnlyList<InvoiceOption> Invoices { get; private set; } = [];
    public IReadOnlyList<Found>? Results { get; private set; }
    public string? SearchError { get; private set; }
    [BindProperty(SupportsGet = true)] public string? Name { get; set; }
    [BindProperty(SupportsGet = true)] public DateOnly? Date { get; set; }

    public async Task<IActionResult> OnGetAsync(int id)
    {
        if (!options.Value.Enabled || !await LoadAsync(id)) return NotFound();
        if (!string.IsNullOrWhiteSpace(Name))
        {
            try
            {
                var found = await services.GetRequiredService<OrthancClient>().FindAsync(Name.Trim(), Date, HttpContext.RequestAborted);
                var ids = found.Select(f => f.Id).ToList();
                var links = await db.ImagingStudies.Where(s => ids.Contains(s.OrthancId)).Select(s => new { s.OrthancId, s.PatientId }).ToListAsync();
                Results = found.Select(f => new Found(f.Id, f.Date, f.Description, f.AccessionNumber, f.PatientName,
                    links.FirstOrDefault(l => l.OrthancId == f.Id)?.PatientId)).ToList();
            }
            catch (OrthancClient.UnavailableException)
            {
                SearchError = "Le PACS (Orthanc) ne répond pas : réessayez dans quelques minutes.";
            }
        }
        Audit.Staff(db, User, time.GetUtcNow().UtcDateTime, StudyLinks.ReadAction, "Patient", id,
            string.IsNullOrWhiteSpace(Name) ? "examens d'imagerie consultés" : $"recherche PACS « {Cut(Name.Trim(), 60)} »{(Date is { } d ? $" du {d:dd/MM/yyyy}" : "")}");
        await db.SaveChangesAsync();
        return Page();
    }

    public async Task<IActionResult> OnPostLinkAsync(int id, string? orthancId, int? invoiceId)
    {
        if (!options.Value.Enabled || !await LoadAsync(id)) return NotFound();
        if (!OrthancClient.IsId(orthancId)) return Done("Examen introuvable dans le PACS.", null, new { id });
        ImagingStudy? study;
        try
        {
            study = await services.GetRequiredService<StudyLinker>().RecordAsync(orthancId!, HttpContext.RequestAborted);
        }
        catch (OrthancClient.UnavailableException)
        {
            return Done("Le PACS (Orthanc) ne répond pas : l'examen n'a pas été lié. Réessayez dans quelques minutes.", null, new { id });
        }
        if (study is null) return Done("Examen introuvable dans le PACS.", null, new { id });
        db.ChangeTracker.Clear();
        var outcome = await services.GetRequiredService<StudyLinks>().LinkAsync(User, study.Id, id, invoiceId, HttpContext.RequestAborted);
        return Done(outcome switch
        {
            StudyLinks.Outcome.Ok => "Examen lié au patient.",
            StudyLinks.Outcome.InvoiceNotOfPatient => "Choisissez une facture de ce patient.",
            _ => "Examen introuvable.",
        }, null, new { id });
    }

    public async Task<IActionResult> OnPostUnlinkAsync(int id, int studyId)
    {
        if (!options.Value.Enabled || !await db.ImagingStudies.AnyAsync(s => s.Id == studyId && s.PatientId == id)) return NotFound();
        await services.GetRequiredService<StudyLinks>().UnlinkAsync(User, studyId, HttpContext.RequestAborted);
        return Done("Examen délié : le patient ne le voit plus.", null, new { id });
    }

    private async Task<bool> LoadAsync(int id)
    {
        var patient = await db.Patients.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id);
        if (patient is null) return false;
        Patient = patient;
        Linked = await db.ImagingStudies.AsNoTracking().Where(s => s.PatientId == id).OrderByDescending(s => s.StudyDate)
            .Select(s => new Row(s.Id, s.OrthancId, s.StudyDate, s.Modality, s.Description, s.InstanceCount, s.AccessionNumber,
                s.Invoice == null ? null : s.Invoice.Number, s.LinkSource, s.DicomPatientName)).ToListAsync();
        Invoices = await db.Invoices.AsNoTracking().Where(i => i.PatientId == id && i.Status != InvoiceStatus.Cancelled)
            .OrderByDescending(i => i.CreatedAt).Select(i => new InvoiceOption(i.Id, i.Number)).ToListAsync();
        return true;
    }

    private static string Cut(string s, int max) => s.Length <= max ? s : s[..max];
}
