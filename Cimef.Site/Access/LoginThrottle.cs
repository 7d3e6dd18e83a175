using Cimef.Site.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Access;

/// <summary>
/// DESIGN §5 throttling, persisted in the LoginFailure table (survives a restart). An attempt is reserved
/// atomically before the password is checked: one INSERT … SELECT … WHERE counts the submitted key's and the
/// client IP's failures inside the window and inserts the attempt's row only when both are under their limit
/// (SQLite serialises writers, so 50 concurrent attempts on one key reserve at most MaxLoginAttempts).
/// A success deletes the key's rows; staff unlock a key the same way (<see cref="ClearKeyAsync"/>).
/// </summary>
public sealed class LoginThrottle(CimefDb db, IOptions<PortalOptions> options, TimeProvider time)
{
    /// <summary>Reserved = the attempt may be checked (its row already counts as a failure); otherwise 429 after RetryAfterSeconds.</summary>
    public readonly record struct Reservation(bool Reserved, int RetryAfterSeconds);

    public async Task<Reservation> TryReserveAsync(string normalizedKey, string clientIp, CancellationToken ct = default)
    {
        var o = options.Value;
        var now = time.GetUtcNow().UtcDateTime;
        var since = now.AddSeconds(-o.LoginAttemptDelaySeconds);
        var key = Bounded(normalizedKey, 40);
        var ip = Bounded(clientIp, 45);
        var inserted = await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO LoginFailures (Key, ClientIp, At)
            SELECT {key}, {ip}, {now}
            WHERE (SELECT COUNT(*) FROM LoginFailures WHERE Key = {key} AND At > {since}) < {o.MaxLoginAttempts}
              AND (SELECT COUNT(*) FROM LoginFailures WHERE ClientIp = {ip} AND At > {since}) < {o.MaxLoginFailuresPerIp}
            """, ct);
        if (inserted == 1) return new Reservation(true, 0);

        // Refused: the lock lifts when the oldest failure that keeps a limit reached leaves the window.
        var keyTimes = await FailureTimesAsync(f => f.Key == key, since, ct);
        var ipTimes = await FailureTimesAsync(f => f.ClientIp == ip, since, ct);
        var unlockAt = new[]
        {
            keyTimes.Count >= o.MaxLoginAttempts ? keyTimes[keyTimes.Count - o.MaxLoginAttempts] : DateTime.MinValue,
            ipTimes.Count >= o.MaxLoginFailuresPerIp ? ipTimes[ipTimes.Count - o.MaxLoginFailuresPerIp] : DateTime.MinValue,
        }.Max().AddSeconds(o.LoginAttemptDelaySeconds);
        var seconds = (int)Math.Ceiling((unlockAt - now).TotalSeconds);
        return new Reservation(false, Math.Clamp(seconds, 1, o.LoginAttemptDelaySeconds));
    }

    /// <summary>A successful login resets the key's counter.</summary>
    public Task<int> ClearKeyAsync(string normalizedKey, CancellationToken ct = default)
    {
        var key = Bounded(normalizedKey, 40);
        return db.LoginFailures.Where(f => f.Key == key).ExecuteDeleteAsync(ct);
    }

    private async Task<List<DateTime>> FailureTimesAsync(System.Linq.Expressions.Expression<Func<Data.Entities.LoginFailure, bool>> match, DateTime since, CancellationToken ct) =>
        await db.LoginFailures.Where(match).Where(f => f.At > since).OrderBy(f => f.At).Select(f => f.At).ToListAsync(ct);

    private static string Bounded(string s, int max) => s.Length <= max ? s : s[..max];
}
