using System.Collections.Concurrent;

namespace Cimef.Site.Reports;

/// <summary>
/// The dashboard's « Téléchargé ce mois-ci » per access, kept between views: the total is counted from the
/// download events (the audit stays the one source), but only again when it can have changed. Every counted download
/// adds one to its report's download count in the same transaction as its event (<see cref="Auditing.AccessEventBatch"/>),
/// so the total is keyed by the clinic month and the download counts of the patient's listed reports, which the session
/// check reads anyway: a new download, a report added or withdrawn, or a new month changes the key. Bounded.
/// </summary>
public sealed class MonthlyDownloads
{
    private const int Capacity = 10_000;
    private readonly ConcurrentDictionary<int, (string Key, long Bytes)> _totals = new();

    public static string KeyOf(DateTime monthStartUtc, IReadOnlyList<PatientReportFiles.Row> reports)
    {
        var key = new System.Text.StringBuilder().Append(monthStartUtc.Ticks);
        foreach (var r in reports) key.Append('|').Append(r.Id).Append(':').Append(r.DownloadCount);
        return key.ToString();
    }

    public bool TryGet(int accessId, string key, out long bytes)
    {
        bytes = 0;
        if (!_totals.TryGetValue(accessId, out var kept) || kept.Key != key) return false;
        bytes = kept.Bytes;
        return true;
    }

    public void Keep(int accessId, string key, long bytes)
    {
        if (_totals.Count >= Capacity) _totals.Clear();
        _totals[accessId] = (key, bytes);
    }
}
