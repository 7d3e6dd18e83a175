using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Imaging;

/// <summary>
/// Follows Orthanc's changes feed (<c>/changes</c>) from the cursor kept in the database (JobState
/// <see cref="JobName"/>) and records each stable study: a study whose AccessionNumber is an invoice number (the
/// modality worklist convention) is linked to that invoice's patient; any other stays unlinked, listed for staff.
/// Recording is an upsert by Orthanc id, so a change handled twice (a node that dies after recording and before
/// moving the cursor, or two nodes racing) still leaves one row, linked once. A study staff linked by hand keeps its link.
/// </summary>
public sealed class StudyLinker(CimefDb db, OrthancClient orthanc, TimeProvider time)
{
    public const string JobName = "imaging.changes";
    public const string AutoLinkedBy = "PACS (numéro de facture)";
    private const int Batch = 100;

    /// <summary>Reads the feed to its end; returns how many stable studies were recorded.</summary>
    public async Task<int> FollowChangesAsync(CancellationToken ct = default)
    {
        var recorded = 0;
        while (true)
        {
            var cursor = await JobRuns.CursorAsync(db, JobName, ct);
            var changes = await orthanc.ChangesAsync(cursor ?? 0, Batch, ct);
            foreach (var c in changes.Items)
                if (c is { ChangeType: "StableStudy", ResourceType: "Study" } && await RecordAsync(c.Id, ct) is not null) recorded++;
            if (changes.Last == (cursor ?? 0) || changes.Items.Count == 0) return recorded;
            // Another node moved the cursor meanwhile: it is reading the same changes, let it go on.
            if (!await JobRuns.TryAdvanceAsync(db, JobName, cursor, changes.Last, ct)) return recorded;
            if (changes.Done) return recorded;
        }
    }

    /// <summary>Records (or refreshes) one study from the PACS; null when the PACS no longer has it.</summary>
    public async Task<ImagingStudy?> RecordAsync(string orthancId, CancellationToken ct = default)
    {
        var study = await orthanc.StudyAsync(orthancId, ct);
        if (study is null) return null;
        var stats = await orthanc.StatisticsAsync(orthancId, ct);
        var series = await orthanc.SeriesListAsync(orthancId, ct);
        for (var attempt = 0; ; attempt++)
        {
            var row = await db.ImagingStudies.SingleOrDefaultAsync(s => s.OrthancId == orthancId, ct);
            var now = time.GetUtcNow().UtcDateTime;
            if (row is null)
            {
                row = new ImagingStudy { OrthancId = orthancId, ReceivedAt = now };
                db.ImagingStudies.Add(row);
            }
            row.StudyInstanceUid = Cut(study.StudyInstanceUid, 64);
            row.AccessionNumber = study.AccessionNumber is null ? null : Cut(study.AccessionNumber, 64);
            row.DicomPatientName = study.PatientName is null ? null : Cut(study.PatientName, 200);
            row.StudyDate = study.Date;
            row.Description = Cut(study.Description, 200);
            row.Modality = Cut(string.Join('/', series.Select(s => s.Modality).Where(m => m.Length > 0).Distinct()), 32);
            row.SeriesCount = stats.Series;
            row.InstanceCount = stats.Instances;
            if (row.ArchiveFile is null) row.ArchiveBytes = stats.DiskSize;
            if (row.PatientId is null && row.LinkSource is null && row.AccessionNumber is { } number)
            {
                var invoice = await db.Invoices.Where(i => i.Number == number && i.Status != InvoiceStatus.Cancelled)
                    .Select(i => new { i.Id, i.PatientId }).FirstOrDefaultAsync(ct);
                if (invoice is not null)
                {
                    row.PatientId = invoice.PatientId;
                    row.InvoiceId = invoice.Id;
                    row.LinkSource = StudyLinkSource.Auto;
                    row.LinkedAt = now;
                    row.LinkedBy = AutoLinkedBy;
                    Audit.Staff(db, null, AutoLinkedBy, now, StudyLinks.LinkAction, "Patient", invoice.PatientId,
                        $"examen {study.StudyInstanceUid} lié à la facture {number}");
                }
            }
            try
            {
                await db.SaveChangesAsync(ct);
                return row;
            }
            catch (DbUpdateException) when (attempt == 0)
            {
                // Another node inserted the same study first: read its row and refresh that one instead.
                db.ChangeTracker.Clear();
            }
        }
    }

    private static string Cut(string s, int max) => s.Length <= max ? s : s[..max];
}
