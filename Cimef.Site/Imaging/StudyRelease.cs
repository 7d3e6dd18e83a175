using Cimef.Site.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Imaging;

/// <summary>
/// The release rule, the one home of "may the patient see this study": a study linked to the patient is visible
/// while a report of the same invoice is published (active, not expired) — so withdrawing the report hides it and
/// publishing another shows it again, with no state copied — or at once with Imaging:ReleaseWithoutReport.
/// </summary>
public sealed class StudyRelease(CimefDb db, IOptions<ImagingOptions> options, TimeProvider time)
{
    public sealed record Row(int Id, DateOnly? Date, string Modality, string Description, int Series, int Images, long ArchiveBytes, int? InvoiceId);

    /// <summary>The studies the patient may see.</summary>
    public IQueryable<ImagingStudy> Released(int patientId)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var withoutReport = options.Value.ReleaseWithoutReport;
        return db.ImagingStudies.AsNoTracking().Where(s => s.PatientId == patientId && (withoutReport
            || db.PatientReports.Any(r => r.InvoiceId == s.InvoiceId && r.IsActive && (r.ExpiresAt == null || r.ExpiresAt > now))));
    }

    public async Task<IReadOnlyList<Row>> ForPatientAsync(int patientId, CancellationToken ct) =>
        await Released(patientId).OrderByDescending(s => s.StudyDate).ThenByDescending(s => s.Id)
            .Select(s => new Row(s.Id, s.StudyDate, s.Modality, s.Description, s.SeriesCount, s.InstanceCount, s.ArchiveBytes, s.InvoiceId))
            .ToListAsync(ct);

    /// <summary>The study, when the patient may see it; null otherwise (another patient's id included).</summary>
    public Task<ImagingStudy?> FindAsync(int patientId, string? idText, CancellationToken ct) =>
        int.TryParse(idText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) && id > 0
            ? Released(patientId).FirstOrDefaultAsync(s => s.Id == id, ct)
            : Task.FromResult<ImagingStudy?>(null);

    /// <summary>A released study as the dashboard links it: under the report of its invoice, or (released without one) apart.</summary>
    public sealed record Link(int StudyId, int Images, int? ReportId);

    /// <summary>The patient's released studies, each placed under the first listed report of its invoice.</summary>
    public async Task<IReadOnlyList<Link>> LinksAsync(int patientId, IReadOnlyList<(int ReportId, int InvoiceId)> reports, CancellationToken ct)
    {
        var studies = await Released(patientId).OrderBy(s => s.Id).Select(s => new { s.Id, s.InstanceCount, s.InvoiceId }).ToListAsync(ct);
        return studies.Select(s => new Link(s.Id, s.InstanceCount,
            reports.Where(r => r.InvoiceId == s.InvoiceId).Select(r => (int?)r.ReportId).FirstOrDefault())).ToList();
    }

    /// <summary>The patient a share belongs to (the share's access's patient).</summary>
    public Task<int> PatientOfAccessAsync(int accessId, CancellationToken ct) =>
        db.PatientAccesses.Where(a => a.Id == accessId).Select(a => a.PatientId).FirstAsync(ct);

    /// <summary>A study of the shared report's invoice the patient may see; null otherwise.</summary>
    public async Task<ImagingStudy?> FindForShareAsync(Data.Entities.ReportShare share, string? idText, CancellationToken ct)
    {
        var study = await FindAsync(await PatientOfAccessAsync(share.PatientAccessId, ct), idText, ct);
        return study?.InvoiceId == share.Report.InvoiceId ? study : null;
    }

    /// <summary>The studies of one invoice the patient may see (a doctor's share of that invoice's report).</summary>
    public async Task<IReadOnlyList<Row>> ForInvoiceAsync(int patientId, int invoiceId, CancellationToken ct) =>
        (await ForPatientAsync(patientId, ct)).Where(r => r.InvoiceId == invoiceId).ToList();
}
