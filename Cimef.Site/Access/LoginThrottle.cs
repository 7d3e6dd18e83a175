using System.Collections.Concurrent;
using Cimef.Site.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Access;

/// <summary>
/// DESIGN §5 throttling, persisted in the LoginFailure table (survives a restart). An attempt is reserved
/// atomically before the password is checked: one INSERT … SELECT … WHERE counts the submitted key's failures in
/// its bucket inside the window and inserts the attempt's row only when under the limit (SQLite serialises
/// writers, so 50 concurrent attempts on one key reserve at most MaxLoginAttempts; on PostgreSQL the same statement
/// runs in a short transaction serialised per key bucket and per address by advisory locks, see
/// <see cref="SqlDialect.TransactionLock"/>, with the same result).
/// Two buckets per key: attempts presenting a valid device cookie for the key (the patient's own phone) and all
/// others, so an attacker's failures never lock the patient out of their phone (OWASP device cookies).
/// The client address count never refuses an attempt by itself: many patients share one address (carrier NAT,
/// clinic Wi-Fi), so an address over its limit still has its password checked, and only a wrong one is refused.
/// A success deletes its bucket's rows; staff unlock a key by deleting both (<see cref="ClearKeyAsync"/>).
/// </summary>
public sealed class LoginThrottle(CimefDb db, CredentialProtector protector, IOptions<PortalOptions> options, TimeProvider time)
{
    /// <summary>
    /// Reserved = the attempt may be checked (its row already counts as a failure); otherwise 429 after RetryAfterSeconds.
    /// AddressOverLimit: the address is past its failure limit — a wrong password answers 429 after RetryAfterSeconds.
    /// </summary>
    public readonly record struct Reservation(bool Reserved, int RetryAfterSeconds, bool AddressOverLimit = false);

    /// <summary>What the Key column holds: bucket letter, keyed hash, last 4 characters (the part events and alerts may show).</summary>
    public static string StoredKey(CredentialProtector protector, string normalizedKey, bool device) =>
        (device ? "d" : "k") + protector.KeyHash(normalizedKey) + CredentialGenerator.Suffix(normalizedKey);

    public async Task<Reservation> TryReserveAsync(string normalizedKey, bool device, int? accessId, string clientBucket, CancellationToken ct = default)
    {
        var o = options.Value;
        var now = time.GetUtcNow().UtcDateTime;
        var since = now.AddSeconds(-o.LoginAttemptDelaySeconds);
        var key = StoredKey(protector, normalizedKey, device);
        var ip = Bounded(clientBucket, 45);
        // Device-cookie rows carry no access id: the staff lock state is the one every other device sees.
        var owner = device ? null : accessId;
        // PostgreSQL only (SqlDialect.TransactionLock is null on SQLite, whose single writer makes the INSERT below
        // atomic by itself): READ COMMITTED lets concurrent INSERT … WHERE count < limit statements all see the same
        // count, so the reservation runs in a transaction holding advisory locks on the key bucket, then the address.
        var dialect = SqlDialect.Of(db);
        var keyLock = dialect.TransactionLock(LockSpace.LoginKey, "{0}");
        await using var tx = keyLock is not null && db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        if (keyLock is not null)
        {
            await db.Database.ExecuteSqlRawAsync(keyLock, [key], ct);
            await db.Database.ExecuteSqlRawAsync(dialect.TransactionLock(LockSpace.LoginAddress, "{0}")!, [ip], ct);
        }
        var addressFailures = await db.LoginFailures.CountAsync(f => f.ClientIp == ip && f.At > since, ct);
        var inserted = await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO "LoginFailures" ("Key", "ClientIp", "At", "PatientAccessId")
            SELECT {key}, {ip}, {now}, CAST({owner} AS INTEGER)
            WHERE (SELECT COUNT(*) FROM "LoginFailures" WHERE "Key" = {key} AND "At" > {since}) < {o.MaxLoginAttempts}
            """, ct);
        if (tx is not null) await tx.CommitAsync(ct);
        if (inserted != 1)
            return new Reservation(false, await RetryAfterAsync(f => f.Key == key, o.MaxLoginAttempts, now, since, ct));
        if (addressFailures < o.MaxLoginFailuresPerIp) return new Reservation(true, 0);
        return new Reservation(true, await RetryAfterAsync(f => f.ClientIp == ip, o.MaxLoginFailuresPerIp, now, since, ct), AddressOverLimit: true);
    }

    /// <summary>A successful login resets the counter of the bucket it succeeded in.</summary>
    public Task<int> ClearBucketAsync(string normalizedKey, bool device, CancellationToken ct = default)
    {
        var key = StoredKey(protector, normalizedKey, device);
        return db.LoginFailures.Where(f => f.Key == key).ExecuteDeleteAsync(ct);
    }

    /// <summary>Staff unlock: both buckets of the key.</summary>
    public Task<int> ClearKeyAsync(string normalizedKey, CancellationToken ct = default)
    {
        var keys = new[] { StoredKey(protector, normalizedKey, false), StoredKey(protector, normalizedKey, true) };
        return db.LoginFailures.Where(f => keys.Contains(f.Key)).ExecuteDeleteAsync(ct);
    }

    /// <summary>The lock lifts when the oldest failure that keeps the limit reached leaves the window.</summary>
    private async Task<int> RetryAfterAsync(System.Linq.Expressions.Expression<Func<Data.Entities.LoginFailure, bool>> match, int limit,
        DateTime now, DateTime since, CancellationToken ct)
    {
        var o = options.Value;
        var times = await db.LoginFailures.Where(match).Where(f => f.At > since).OrderBy(f => f.At).Select(f => f.At).ToListAsync(ct);
        var unlockAt = (times.Count >= limit ? times[times.Count - limit] : now).AddSeconds(o.LoginAttemptDelaySeconds);
        var seconds = (int)Math.Ceiling((unlockAt - now).TotalSeconds);
        return Math.Clamp(seconds, 1, o.LoginAttemptDelaySeconds);
    }

    private static string Bounded(string s, int max) => s.Length <= max ? s : s[..max];
}

/// <summary>
/// Attempts with a malformed key (not 12 characters of the key alphabet) can never succeed, so they cost no
/// database write: they are counted here, in memory, per client address (same window and limit as the address
/// failure count), and only one of them per address and minute is sampled as an event for the statistics.
/// </summary>
public sealed class MalformedKeyAttempts(IOptions<PortalOptions> options)
{
    /// <summary>Above this many tracked addresses, expired windows are swept (memory stays bounded under a spread attack).</summary>
    private const int SweepAbove = 10_000;
    private static readonly TimeSpan SampleEvery = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, Window> _windows = new();
    private long _calls;

    private sealed class Window
    {
        public DateTime Start;
        public int Count;
        public DateTime? LastSample;
    }

    /// <summary>Counts one attempt. OverLimit: answer 429 after RetryAfterSeconds. Sample: write one event for it.</summary>
    public (bool OverLimit, int RetryAfterSeconds, bool Sample, int Count) Count(string clientBucket, DateTime now)
    {
        var o = options.Value;
        var length = TimeSpan.FromSeconds(o.LoginAttemptDelaySeconds);
        // Count takes every lock of the dictionary: look at it only once in a while.
        if (Interlocked.Increment(ref _calls) % 1024 == 0 && _windows.Count > SweepAbove)
            foreach (var (k, w) in _windows)
                if (now - w.Start >= length) _windows.TryRemove(k, out _);
        var window = _windows.GetOrAdd(clientBucket, _ => new Window { Start = now });
        lock (window)
        {
            if (now - window.Start >= length)
            {
                window.Start = now;
                window.Count = 0;
            }
            var over = window.Count >= o.MaxLoginFailuresPerIp;
            window.Count++;
            var sample = window.LastSample is null || now - window.LastSample >= SampleEvery;
            if (sample) window.LastSample = now;
            var retry = (int)Math.Ceiling((window.Start + length - now).TotalSeconds);
            return (over, Math.Clamp(retry, 1, o.LoginAttemptDelaySeconds), sample, window.Count);
        }
    }
}
