using System.Collections.Concurrent;
using Cimef.Site.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Cimef.Site.Access;

namespace Cimef.Site.Portal;

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
public sealed class LoginThrottle(IServiceProvider services, CredentialProtector protector, IOptions<PortalOptions> options, TimeProvider time, HotQueries queries)
{
    /// <summary>The request's context, built only when used (PostgreSQL, clearing buckets): not on a SQLite login.</summary>
    private CimefDb db => field ??= services.GetRequiredService<CimefDb>();

    /// <summary>
    /// Reserved = the attempt may be checked (its row already counts as a failure); otherwise 429 after RetryAfterSeconds.
    /// AddressOverLimit: the address is past its failure limit — a wrong password answers 429 after RetryAfterSeconds.
    /// </summary>
    public readonly record struct Reservation(bool Reserved, int RetryAfterSeconds, bool AddressOverLimit = false);

    /// <summary>What the Key column holds: bucket letter, keyed hash, last 4 characters (the part events and alerts may show).</summary>
    public static string StoredKey(LoginKey key, bool device) => (device ? "d" : "k") + key.Hash + key.Suffix;

    /// <summary>The reservation in a write transaction of its own (see <see cref="ReserveAsync"/>).</summary>
    public Task<Reservation> TryReserveAsync(LoginKey loginKey, bool device, int? accessId, string clientBucket, CancellationToken ct = default) =>
        queries.WriteAsync(() => db, c => ReserveAsync(c, loginKey, device, accessId, clientBucket, ct), ct);

    /// <summary>
    /// Reserves the attempt inside the caller's write transaction (<see cref="HotQueries.WriteAsync{T}"/>): SQLite's
    /// single writer makes the INSERT … WHERE count &lt; limit atomic by itself; on PostgreSQL (READ COMMITTED would let
    /// concurrent statements all see the same count) the transaction first takes advisory locks on the key bucket,
    /// then the address (<see cref="SqlDialect.TransactionLock"/>).
    /// </summary>
    public async Task<Reservation> ReserveAsync(HotQueries.Commands c, LoginKey loginKey, bool device, int? accessId, string clientBucket, CancellationToken ct)
    {
        var o = options.Value;
        var now = time.GetUtcNow().UtcDateTime;
        var since = now.AddSeconds(-o.LoginAttemptDelaySeconds);
        var key = StoredKey(loginKey, device);
        var ip = Bounded(clientBucket, 45);
        // Device-cookie rows carry no access id: the staff lock state is the one every other device sees.
        var owner = device ? null : accessId;
        var dialect = queries.Dialect;
        if (dialect.TransactionLock(LockSpace.LoginKey, "@key") is { } keyLock)
        {
            await c.ExecuteAsync(keyLock + ";", cmd => HotQueries.Add(cmd, "key", key), ct);
            await c.ExecuteAsync(dialect.TransactionLock(LockSpace.LoginAddress, "@ip") + ";", cmd => HotQueries.Add(cmd, "ip", ip), ct);
        }
        var addressFailures = await CountAsync(c, AddressFailuresSql, ip, since, ct);
        var inserted = await c.ExecuteAsync(ReserveSql, cmd =>
        {
            HotQueries.Add(cmd, "key", key);
            HotQueries.Add(cmd, "ip", ip);
            HotQueries.Add(cmd, "now", now);
            HotQueries.Add(cmd, "owner", owner);
            HotQueries.Add(cmd, "since", since);
            HotQueries.Add(cmd, "limit", o.MaxLoginAttempts);
        }, ct);
        if (inserted != 1)
            return new Reservation(false, await RetryAfterAsync(c, KeyTimesSql, key, o.MaxLoginAttempts, now, since, ct));
        if (addressFailures < o.MaxLoginFailuresPerIp) return new Reservation(true, 0);
        return new Reservation(true, await RetryAfterAsync(c, AddressTimesSql, ip, o.MaxLoginFailuresPerIp, now, since, ct), AddressOverLimit: true);
    }

    private const string AddressFailuresSql = """SELECT COUNT(*) FROM "LoginFailures" WHERE "ClientIp" = @value AND "At" > @since""";
    private const string ReserveSql = """
        INSERT INTO "LoginFailures" ("Key", "ClientIp", "At", "PatientAccessId")
        SELECT @key, @ip, @now, CAST(@owner AS INTEGER)
        WHERE (SELECT COUNT(*) FROM "LoginFailures" WHERE "Key" = @key AND "At" > @since) < @limit
        """;
    private const string KeyTimesSql = """SELECT "At" FROM "LoginFailures" WHERE "Key" = @value AND "At" > @since ORDER BY "At" """;
    private const string AddressTimesSql = """SELECT "At" FROM "LoginFailures" WHERE "ClientIp" = @value AND "At" > @since ORDER BY "At" """;
    private const string ClearBucketSql = """DELETE FROM "LoginFailures" WHERE "Key" = @key""";

    private static Task<long> CountAsync(HotQueries.Commands c, string sql, string value, DateTime since, CancellationToken ct) =>
        c.ReadAsync(sql, cmd =>
        {
            HotQueries.Add(cmd, "value", value);
            HotQueries.Add(cmd, "since", since);
        }, async r => await r.ReadAsync(ct) ? HotQueries.Long(r, 0) : 0, ct);

    /// <summary>A successful login resets the counter of the bucket it succeeded in (inside its write transaction).</summary>
    public Task<int> ClearBucketAsync(HotQueries.Commands c, LoginKey loginKey, bool device, CancellationToken ct)
    {
        var key = StoredKey(loginKey, device);
        return c.ExecuteAsync(ClearBucketSql, cmd => HotQueries.Add(cmd, "key", key), ct);
    }

    /// <summary>Staff unlock: both buckets of the key.</summary>
    public Task<int> ClearKeyAsync(string normalizedKey, CancellationToken ct = default)
    {
        var loginKey = LoginKey.Of(normalizedKey, protector);
        var keys = new[] { StoredKey(loginKey, false), StoredKey(loginKey, true) };
        return db.LoginFailures.Where(f => keys.Contains(f.Key)).ExecuteDeleteAsync(ct);
    }

    /// <summary>The lock lifts when the oldest failure that keeps the limit reached leaves the window.</summary>
    private async Task<int> RetryAfterAsync(HotQueries.Commands c, string sql, string value, int limit,
        DateTime now, DateTime since, CancellationToken ct)
    {
        var o = options.Value;
        var times = await c.ReadAsync(sql, cmd =>
        {
            HotQueries.Add(cmd, "value", value);
            HotQueries.Add(cmd, "since", since);
        }, async r =>
        {
            var list = new List<DateTime>();
            while (await r.ReadAsync(ct)) list.Add(HotQueries.Date(r, 0));
            return list;
        }, ct);
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
