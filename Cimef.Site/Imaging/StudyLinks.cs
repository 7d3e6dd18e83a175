using System.Security.Claims;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Imaging;

/// <summary>
/// Staff linking a study to a patient by hand (a study whose AccessionNumber matched no invoice), or unlinking one
/// (linked to the wrong patient). An unlinked study stays unlinked: the changes feed never links it again by itself.
/// Both are audited.
/// </summary>
public sealed class StudyLinks(CimefDb db, TimeProvider time)
{
    public const string LinkAction = "imaging.link";
    public const string UnlinkAction = "imaging.unlink";
    public const string ReadAction = "imaging.read";

    public enum Outcome { Ok, NotFound, InvoiceNotOfPatient }

    public async Task<Outcome> LinkAsync(ClaimsPrincipal user, int studyId, int patientId, int? invoiceId, CancellationToken ct)
    {
        var study = await db.ImagingStudies.FirstOrDefaultAsync(s => s.Id == studyId, ct);
        if (study is null || !await db.Patients.AnyAsync(p => p.Id == patientId, ct)) return Outcome.NotFound;
        string? number = null;
        if (invoiceId is { } iid)
        {
            number = await db.Invoices.Where(i => i.Id == iid && i.PatientId == patientId).Select(i => i.Number).FirstOrDefaultAsync(ct);
            if (number is null) return Outcome.InvoiceNotOfPatient;
        }
        var now = time.GetUtcNow().UtcDateTime;
        study.PatientId = patientId;
        study.InvoiceId = invoiceId;
        study.LinkSource = StudyLinkSource.Manual;
        study.LinkedAt = now;
        study.LinkedBy = user.Identity?.Name;
        Audit.Staff(db, user, now, LinkAction, "Patient", patientId,
            $"examen {study.StudyInstanceUid} lié à la main" + (number is null ? "" : $" (facture {number})"));
        await db.SaveChangesAsync(ct);
        return Outcome.Ok;
    }

    public async Task<Outcome> UnlinkAsync(ClaimsPrincipal user, int studyId, CancellationToken ct)
    {
        var study = await db.ImagingStudies.FirstOrDefaultAsync(s => s.Id == studyId, ct);
        if (study is null) return Outcome.NotFound;
        var now = time.GetUtcNow().UtcDateTime;
        var was = study.PatientId;
        study.PatientId = null;
        study.InvoiceId = null;
        study.LinkSource = StudyLinkSource.Manual;
        study.LinkedAt = now;
        study.LinkedBy = user.Identity?.Name;
        Audit.Staff(db, user, now, UnlinkAction, "Patient", was, $"examen {study.StudyInstanceUid} délié");
        await db.SaveChangesAsync(ct);
        return Outcome.Ok;
    }
}
