using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Imaging;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Pages.Patients;

/// <summary>
/// The PACS's studies no patient is linked to (an AccessionNumber that is no invoice number, or a study unlinked by
/// hand), newest first, for staff to find their patient. Audited (it shows patient names); 404 when imaging is off.
/// </summary>
[Authorize(Policy = Policies.FrontDesk)]
public class UnlinkedStudiesModel(CimefDb db, IOptions<ImagingOptions> options, TimeProvider time) : StaffPage
{
    public sealed record Row(int Id, DateOnly? Date, string Modality, string Description, int Images, string? Accession, string? DicomName, DateTime ReceivedAt);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        if (!options.Value.Enabled) return NotFound();
        Rows = await db.ImagingStudies.AsNoTracking().Where(s => s.PatientId == null).OrderByDescending(s => s.ReceivedAt).Take(200)
            .Select(s => new Row(s.Id, s.StudyDate, s.Modality, s.Description, s.InstanceCount, s.AccessionNumber, s.DicomPatientName, s.ReceivedAt))
            .ToListAsync();
        Audit.Staff(db, User, time.GetUtcNow().UtcDateTime, StudyLinks.ReadAction, "ImagingStudy", null, $"examens non liés consultés ({Rows.Count})");
        await db.SaveChangesAsync();
        return Page();
    }
}
