using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Storage;

/// <summary>
/// Verifies every active report's file exists and matches its SHA-256; records the result on the report
/// and raises an alert for each missing or altered file. Used by the CLI <c>check</c> and the daily job.
/// </summary>
public static class IntegrityCheck
{
    public sealed record Problem(int ReportId, FileIntegrity Status, string StoredFileName);

    public static async Task<IReadOnlyList<Problem>> RunAsync(CimefDb db, ReportStore store, DateTime now, CancellationToken ct = default)
    {
        var problems = new List<Problem>();
        var reports = await db.PatientReports.Where(r => r.IsActive).OrderBy(r => r.Id).ToListAsync(ct);
        foreach (var r in reports)
        {
            var actual = await store.ComputeSha256Async(r.StoredFileName, ct);
            var status = actual is null ? FileIntegrity.Missing
                : string.Equals(actual, r.Sha256, StringComparison.OrdinalIgnoreCase) ? FileIntegrity.Ok
                : FileIntegrity.Altered;
            r.Integrity = status;
            r.IntegrityCheckedAt = now;
            if (status != FileIntegrity.Ok) problems.Add(new Problem(r.Id, status, r.StoredFileName));
        }
        // The files are read first: the transaction (PostgreSQL's alert lock) lasts only for the alerts and the save.
        await using var tx = await Alerts.BeginAsync(db, ct);
        foreach (var r in reports.Where(r => r.Integrity != FileIntegrity.Ok))
        {
            var what = r.Integrity == FileIntegrity.Missing ? "Fichier manquant" : "Fichier modifié (SHA-256 différent)";
            await Alerts.RaiseAsync(db, AlertLevel.Critical, AlertKinds.ReportFile, $"rapport {r.Id}", $"{what} : {r.Title}", now, ct);
        }
        await db.SaveChangesAsync(ct);
        if (tx is not null) await tx.CommitAsync(ct);
        return problems;
    }
}
