using System.Net;
using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Cimef.Site.Portal;

namespace Cimef.Site.Tests.Portal;

/// <summary>
/// Carrier NAT, clinic Wi-Fi and proxies put many patients behind one address; the address
/// count must never refuse correct credentials, a patient's phone (device cookie) is throttled apart from attackers,
/// IPv6 is counted per /64, malformed keys cost no database write, failure rows hold no key and leave the table.
/// </summary>
public class SharedAddressTests : IClassFixture<SharedAddressTests.Factory>
{
    public sealed class Factory : CimefFactory
    {
        public CollectingLogs Logs { get; } = new();

        public Factory()
        {
            Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
            ConfigureTestServices = s =>
            {
                TestRemoteIp.AddTo(s);
                s.AddSingleton<ILoggerProvider>(Logs);
            };
        }
    }

    private readonly Factory _factory;

    public SharedAddressTests(Factory factory)
    {
        _factory = factory;
        // Every test starts with empty windows (failures of earlier tests in this class have expired).
        factory.Time.Advance(TimeSpan.FromMinutes(15));
    }

    private HttpClient From(string ip) => TestRemoteIp.ClientFrom(_factory, ip);

    [Fact]
    public async Task Twenty_five_failures_from_one_address_then_a_correct_login_gets_in_and_a_wrong_one_gets_429()
    {
        var p = await _factory.Data.PatientAsync();
        var neighbour = await _factory.Data.PatientAsync();
        const string nat = "100.64.12.34"; // carrier-grade NAT: thousands of subscribers
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 25; i++)
            statuses.Add((await From(nat).LoginJsonAsync(CredentialGenerator.NewKey(), "zzzz2222")).StatusCode);
        Assert.All(statuses.Take(20), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.All(statuses.Skip(20), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));

        // A patient behind the same address, no device cookie: correct credentials get in (API and page).
        var correct = await From(nat).LoginJsonAsync(p.Key, p.Password);
        Assert.Equal(HttpStatusCode.OK, correct.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await From(nat).LoginFormAsync(neighbour.Key, neighbour.Password)).StatusCode);
        Assert.Equal(1, await _factory.EventCountAsync(AccessEventKinds.LoginSuccess, p.AccessId));

        // A wrong password from that address learns nothing: 429 with Retry-After, not 401.
        var wrong = await From(nat).LoginJsonAsync(neighbour.Key, "zzzz2222");
        Assert.Equal(HttpStatusCode.TooManyRequests, wrong.StatusCode);
        Assert.InRange(int.Parse(wrong.Headers.GetValues("Retry-After").Single()), 1, 300);
        Assert.StartsWith("Trop de tentatives", (await wrong.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_key_locked_by_attackers_still_lets_its_owner_in_from_a_phone_holding_a_device_cookie()
    {
        var p = await _factory.Data.PatientAsync();
        var other = await _factory.Data.PatientAsync();
        var phone = From("41.82.10.5");
        var first = await phone.LoginJsonAsync(p.Key, p.Password);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var deviceCookie = first.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(DeviceCookies.CookieName + "="));
        Assert.Contains("httponly", deviceCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure", deviceCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(p.Key, deviceCookie);

        // The key is printed, in the QR code and the SMS: attackers from many addresses keep it locked.
        _factory.Time.Advance(TimeSpan.FromSeconds(30));
        for (var i = 0; i < 8; i++)
        {
            await From($"198.51.100.{i + 1}").LoginJsonAsync(p.Key, "zzzz2222");
            await From($"198.51.100.{i + 1}").LoginJsonAsync(other.Key, "zzzz2222");
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, (await From("198.51.100.99").LoginJsonAsync(p.Key, p.Password)).StatusCode);

        // The owner's phone is counted apart: it gets in; its cookie does nothing for another locked key.
        Assert.Equal(HttpStatusCode.OK, (await phone.LoginJsonAsync(p.Key, p.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await phone.LoginJsonAsync(other.Key, other.Password)).StatusCode);
        Assert.Equal(2, await _factory.EventCountAsync(AccessEventKinds.LoginSuccess, p.AccessId));

        // The device bucket has the same strict limit: 5 wrong passwords from the phone lock the phone too.
        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await phone.LoginJsonAsync(p.Key, "zzzz2222")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await phone.LoginJsonAsync(p.Key, p.Password)).StatusCode);
    }

    [Fact]
    public async Task Three_hundred_attempts_from_one_ipv6_64_are_counted_as_one_address()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 1; i <= 300; i++)
            statuses.Add((await From($"2001:db8:77:1:{i:x}:{i * 7 % 65536:x}::{i:x}").LoginJsonAsync(CredentialGenerator.NewKey(), "zzzz2222")).StatusCode);
        Assert.All(statuses.Take(20), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.All(statuses.Skip(20), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        Assert.Equal(300, await _factory.WithDbAsync(db => db.LoginFailures.CountAsync(f => f.ClientIp == "2001:db8:77:1::/64")));
        // The next /64 is another subscriber.
        Assert.Equal(HttpStatusCode.Unauthorized, (await From("2001:db8:77:2::1").LoginJsonAsync(CredentialGenerator.NewKey(), "zzzz2222")).StatusCode);
    }

    [Fact]
    public async Task A_thousand_malformed_keys_write_nothing_but_one_sampled_event()
    {
        var client = From("192.0.2.44");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.LoginJsonAsync("bad", "zzzz2222")).StatusCode); // the one sample
        var failures = await _factory.WithDbAsync(db => db.LoginFailures.CountAsync());
        var events = await _factory.WithDbAsync(db => db.AccessEvents.CountAsync());
        var size = DatabaseBytes();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 1000; i++)
        {
            var key = (i % 4) switch
            {
                0 => $"KEY{i:D9}",                // digits 0 and 1 are not in the key alphabet
                1 => $"OILO-{i:D4}-ABCD",          // O, I and L are not either
                2 => new string('A', 13 + i % 20), // too long
                _ => $"AB{i}",                     // too short
            };
            statuses.Add((await client.LoginJsonAsync(key, "zzzz2222")).StatusCode);
        }
        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests }));
        Assert.Equal(19, statuses.Count(s => s == HttpStatusCode.Unauthorized)); // the address limit (20) still applies, in memory
        Assert.Equal(failures, await _factory.WithDbAsync(db => db.LoginFailures.CountAsync()));
        Assert.Equal(events, await _factory.WithDbAsync(db => db.AccessEvents.CountAsync()));
        Assert.True(DatabaseBytes() - size <= 16 * 1024, $"the database files grew by {DatabaseBytes() - size} bytes");

        // A minute later the address is sampled once more (statistics still see the scan).
        _factory.Time.Advance(TimeSpan.FromMinutes(1));
        await client.LoginJsonAsync("KEY000000001", "zzzz2222");
        Assert.Equal(events + 1, await _factory.WithDbAsync(db => db.AccessEvents.CountAsync()));
    }

    private long DatabaseBytes() =>
        new[] { "cimef.db", "cimef.db-wal" }.Select(f => Path.Combine(_factory.DataDir, f)).Where(File.Exists).Sum(f => new FileInfo(f).Length);

    [Fact]
    public async Task Login_failures_store_a_keyed_hash_never_the_key_and_leave_the_table_after_the_window()
    {
        var p = await _factory.Data.PatientAsync();
        var unknown = CredentialGenerator.NewKey();
        const string ip = "192.0.2.90";
        await From(ip).LoginJsonAsync(p.Key, "zzzz2222");
        await From(ip).LoginFormAsync(CredentialGenerator.FormatKey(unknown).ToLowerInvariant(), "zzzz2222");
        var rows = await _factory.WithDbAsync(db => db.LoginFailures.Where(f => f.ClientIp == ip).OrderBy(f => f.Id).ToListAsync());
        Assert.Equal(2, rows.Count);
        foreach (var (row, key) in rows.Zip([p.Key, unknown]))
        {
            Assert.DoesNotContain(key[..8], row.Key);
            Assert.EndsWith(key[^4..], row.Key); // the suffix events and alerts already show
        }
        Assert.Equal(p.AccessId, rows[0].PatientAccessId); // staff still see the known key's lock
        Assert.Null(rows[1].PatientAccessId);

        // Retention: kept while the throttle and the alert rules can use them (10 min), gone afterwards.
        var now = _factory.Time.GetUtcNow().UtcDateTime;
        await _factory.WithDbAsync(db => Retention.PruneLoginFailuresAsync(db, now.AddMinutes(9), 300));
        Assert.Equal(2, await _factory.WithDbAsync(db => db.LoginFailures.CountAsync(f => f.ClientIp == ip)));
        Assert.True(await _factory.WithDbAsync(db => Retention.PruneLoginFailuresAsync(db, now.AddMinutes(11), 300)) >= 2);
        Assert.Equal(0, await _factory.WithDbAsync(db => db.LoginFailures.CountAsync(f => f.ClientIp == ip)));

        // The hourly retention job does it by itself.
        await From(ip).LoginJsonAsync(p.Key, "zzzz2222");
        _factory.Time.Advance(RetentionJob.Interval);
        // The fake clock fires the job's timer at once, but its pass runs on the hosted service's own thread and
        // the job has no completion signal to await (nor should production code grow one for a test): poll the
        // outcome briefly instead (at most 10 s of real time; usually one or two rounds).
        for (var i = 0; i < 100 && await _factory.WithDbAsync(db => db.LoginFailures.AnyAsync(f => f.ClientIp == ip)); i++) await Task.Delay(100);
        Assert.Equal(0, await _factory.WithDbAsync(db => db.LoginFailures.CountAsync(f => f.ClientIp == ip)));
    }

    [Fact]
    public async Task Staff_unlock_clears_the_key_in_both_buckets()
    {
        var p = await _factory.Data.PatientAsync();
        for (var i = 0; i < 5; i++) await From("192.0.2.120").LoginJsonAsync(p.Key, "zzzz2222");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await From("192.0.2.121").LoginJsonAsync(p.Key, p.Password)).StatusCode);
        await _factory.WithScopeAsync(sp => sp.GetRequiredService<LoginThrottle>().ClearKeyAsync(p.Key));
        Assert.Equal(HttpStatusCode.OK, (await From("192.0.2.121").LoginJsonAsync(p.Key, p.Password)).StatusCode);
    }

    [Fact]
    public async Task X_forwarded_for_without_a_known_proxy_logs_one_warning()
    {
        var request = () =>
        {
            var r = new HttpRequestMessage(HttpMethod.Get, "/patient");
            r.Headers.Add("X-Forwarded-For", "203.0.113.9");
            return r;
        };
        await From("192.0.2.200").SendAsync(request());
        await From("192.0.2.201").SendAsync(request());
        var warnings = _factory.Logs.Messages.Where(m => m.Contains("X-Forwarded-For") && m.Contains("Network:KnownProxies")).ToList();
        Assert.Single(warnings);
    }
}

/// <summary>Keeps every log message (tests assert on warnings).</summary>
public sealed class CollectingLogs : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _messages = new();
    public IReadOnlyList<string> Messages => [.. _messages];
    public ILogger CreateLogger(string categoryName) => new Logger(_messages);
    public void Dispose() { }

    private sealed class Logger(System.Collections.Concurrent.ConcurrentQueue<string> messages) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) messages.Enqueue(formatter(state, exception));
        }
    }
}
