namespace Cimef.Site.Data.Entities;

/// <summary>
/// A secret every node of a cluster must share (today the credential HMAC secret), stored Data Protection-encrypted:
/// whoever reads the table without the key ring learns nothing. Created once by insert-if-absent, never updated.
/// </summary>
public sealed class ClusterSecret
{
    public string Name { get; set; } = "";
    public string ProtectedValue { get; set; } = "";
}

/// <summary>
/// A fixed-window request counter shared by the nodes (PostgreSQL): one row per (policy, client bucket, window
/// start), incremented by one atomic upsert per request; windows that have ended are purged.
/// </summary>
public sealed class RateLimitCounter
{
    public string Policy { get; set; } = "";
    public string Bucket { get; set; } = "";
    public DateTime WindowStart { get; set; }
    public int Count { get; set; }
}

/// <summary>
/// Patient-portal response times in aggregated form: per node and minute, how many requests fell into each fixed
/// latency bucket (<see cref="UpperMs"/> = the bucket's upper bound, <see cref="int.MaxValue"/> for the last one).
/// </summary>
public sealed class PortalTiming
{
    public string Node { get; set; } = "";
    public DateTime Minute { get; set; }
    public int UpperMs { get; set; }
    public int Count { get; set; }
}
