using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Cimef.Site.Portal;

namespace Cimef.Site.Tests.Portal;

/// <summary>DESIGN §5 throttling: per submitted key and per client IP, persisted, reserved before the check.</summary>
public class LoginThrottleTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public LoginThrottleTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        // Every test starts with empty windows (failures of earlier tests in this class have expired).
        factory.Time.Advance(TimeSpan.FromMinutes(10));
    }

    [Fact]
    public async Task Six_failures_then_the_correct_password_is_refused_until_the_delay_passes()
    {
        var p = await _factory.Data.PatientAsync();
        var client = _factory.NewClient();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.LoginFormAsync(p.Key, "zzzz2222")).StatusCode);
            _factory.Time.Advance(TimeSpan.FromSeconds(10));
        }
        var sixth = await client.LoginFormAsync(p.Key, "zzzz2222");
        Assert.Equal(HttpStatusCode.TooManyRequests, sixth.StatusCode);

        var correct = await client.LoginFormAsync(p.Key, p.Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, correct.StatusCode);
        // The first failure was 50 s ago: the lock lifts 300 s after it.
        Assert.Equal("250", correct.Headers.GetValues("Retry-After").Single());
        Assert.Contains("Trop de tentatives. Réessayez dans 5 minutes.", await correct.TextAsync());
        Assert.Equal(0, await _factory.EventCountAsync(AccessEventKinds.LoginSuccess, p.AccessId));

        _factory.Time.Advance(TimeSpan.FromSeconds(251));
        var later = await client.LoginFormAsync(p.Key, p.Password);
        Assert.Equal(HttpStatusCode.Redirect, later.StatusCode);
        Assert.Equal(0, await _factory.WithDbAsync(db => db.LoginFailures.CountAsync(f => f.PatientAccessId == p.AccessId)));
    }

    [Fact]
    public async Task An_unknown_key_is_throttled_with_the_same_status_message_and_delay()
    {
        var p = await _factory.Data.PatientAsync();
        const string unknown = "ZZZZZZZZZZZZ";
        for (var i = 0; i < 5; i++)
        {
            await _factory.NewClient().LoginFormAsync(p.Key, "zzzz2222");
            await _factory.NewClient().LoginFormAsync(unknown, "zzzz2222");
        }
        var known = await _factory.NewClient().LoginFormAsync(p.Key, p.Password);
        var unknownResponse = await _factory.NewClient().LoginFormAsync(unknown, p.Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, known.StatusCode);
        Assert.Equal(known.StatusCode, unknownResponse.StatusCode);
        Assert.Equal(known.Headers.GetValues("Retry-After").Single(), unknownResponse.Headers.GetValues("Retry-After").Single());
        Assert.Equal(Message(await known.TextAsync()), Message(await unknownResponse.TextAsync()));
    }

    [Fact]
    public async Task Fifty_concurrent_wrong_attempts_on_one_key_check_at_most_five()
    {
        var p = await _factory.Data.PatientAsync();
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ =>
            _factory.NewClient().LoginJsonAsync(p.Key, "zzzz2222")));
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests }));
        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized));
        Assert.Equal(5, await _factory.EventCountAsync(AccessEventKinds.LoginFailure, p.AccessId));
        Assert.Equal(5, await _factory.WithDbAsync(db => db.LoginFailures.CountAsync(f => f.PatientAccessId == p.AccessId)));
    }

    /// <summary>
    /// The reservation itself under the tightest race: 50 reservations on one key, each on its own
    /// open connection, released together. SQLite's single writer and PostgreSQL's advisory locks both keep it exact.
    /// </summary>
    [Fact]
    public async Task Fifty_reservations_released_together_on_one_key_reserve_at_most_five()
    {
        const string key = "RACE23456789";
        var scopes = Enumerable.Range(0, 50).Select(_ => _factory.Services.CreateAsyncScope()).ToList();
        try
        {
            foreach (var s in scopes) await s.ServiceProvider.GetRequiredService<Cimef.Site.Data.CimefDb>().Database.OpenConnectionAsync();
            using var go = new SemaphoreSlim(0);
            var attempts = scopes.Select((s, i) => Task.Run(async () =>
            {
                await go.WaitAsync();
                return await s.ServiceProvider.GetRequiredService<LoginThrottle>().TryReserveAsync(LoginKey.Of(key, s.ServiceProvider.GetRequiredService<Cimef.Site.Access.CredentialProtector>()), false, null, $"198.51.100.{i}");
            })).ToList();
            go.Release(attempts.Count);
            var reservations = await Task.WhenAll(attempts);
            Assert.Equal(5, reservations.Count(r => r.Reserved));
        }
        finally
        {
            foreach (var s in scopes) await s.DisposeAsync();
        }
        Assert.Equal(5, await _factory.WithDbAsync(db => db.LoginFailures.CountAsync(f => f.Key.EndsWith("6789") && f.ClientIp.StartsWith("198.51.100."))));
    }

    [Fact]
    public async Task A_thousand_keys_from_one_ip_are_refused_after_the_ip_limit()
    {
        var client = _factory.NewClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 1000; i++)
            statuses.Add((await client.LoginJsonAsync($"KEY{i:D9}", "zzzz2222")).StatusCode);
        Assert.Equal(20, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(980, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.All(statuses.Skip(20), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
    }

    [Fact]
    public async Task X_forwarded_for_from_a_client_that_is_not_a_proxy_is_ignored()
    {
        var client = _factory.NewClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 21; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/patients/portal/login/")
            {
                Content = new StringContent($"{{\"access_key\":\"XFF{i:D9}\",\"password\":\"zzzz2222\"}}", System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Forwarded-For", $"203.0.113.{i + 1}");
            statuses.Add((await client.SendAsync(request)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.False(await _factory.WithDbAsync(db => db.LoginFailures.AnyAsync(f => f.ClientIp.StartsWith("203.0.113."))));
        Assert.False(await _factory.WithDbAsync(db => db.AccessEvents.AnyAsync(e => e.ClientIp != null && e.ClientIp.StartsWith("203.0.113."))));
    }

    [Fact]
    public async Task Failures_are_kept_in_the_database_so_a_restart_keeps_the_lock()
    {
        var p = await _factory.Data.PatientAsync();
        for (var i = 0; i < 5; i++) await _factory.NewClient().LoginFormAsync(p.Key, "zzzz2222");
        var rows = await _factory.WithDbAsync(db => db.LoginFailures.Where(f => f.PatientAccessId == p.AccessId).ToListAsync());
        Assert.Equal(5, rows.Count);
        // Staff unlock (access management page) = deleting the key's rows: the patient can log in at once.
        await _factory.WithScopeAsync(sp => sp.GetRequiredService<LoginThrottle>().ClearKeyAsync(p.Key));
        Assert.Equal(HttpStatusCode.Redirect, (await _factory.NewClient().LoginFormAsync(p.Key, p.Password)).StatusCode);
    }

    private static string Message(string html) =>
        System.Text.RegularExpressions.Regex.Match(html, "<p class=\"msg\" role=\"alert\" id=\"login-error\">([^<]*)</p>").Groups[1].Value;
}

/// <summary>The built-in rate limiter caps login request floods per IP with 429 (not 503); showing the page is not limited.</summary>
public class LoginRateLimitTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public LoginRateLimitTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "5";
    }

    [Fact]
    public async Task A_login_flood_gets_429_with_retry_after_and_a_json_error()
    {
        var client = _factory.NewClient();
        for (var i = 0; i < 12; i++) Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/patient")).StatusCode);
        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 7; i++) statuses.Add(await client.LoginJsonAsync($"FLOOD{i:D7}", "zzzz2222"));
        var limited = statuses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        Assert.DoesNotContain(statuses, r => r.StatusCode == HttpStatusCode.ServiceUnavailable);
        Assert.True(int.Parse(limited[0].Headers.GetValues("Retry-After").Single()) > 0);
        var json = await limited[0].JsonAsync();
        Assert.StartsWith("Trop de tentatives", json.GetProperty("error").GetString());
        Assert.True(json.GetProperty("retry_after").GetInt32() > 0);

        var page = await client.PostFormAsync("/patient", new() { ["Input.AccessKey"] = "FLOODPAGE000", ["Input.Password"] = "zzzz2222" });
        Assert.Equal(HttpStatusCode.TooManyRequests, page.StatusCode);
        Assert.Contains("Trop de tentatives", await page.TextAsync());
    }
}
