using System.Diagnostics;
using System.Net;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Cimef.Site.Bench;

/// <summary>The statistics page over 1,000,000 access events (a year of heavy use), warm median through the real pipeline.</summary>
[Trait("Category", "Bench")]
public class StatisticsBench(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private const int Events = 1_000_000;

    [Fact]
    public async Task Statistics_page_with_a_million_access_events()
    {
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var now = factory.Time.GetUtcNow().UtcDateTime;
        var insert = Stopwatch.StartNew();
        InsertEvents(Path.Combine(factory.DataDir, "cimef.db"), now);
        insert.Stop();
        BenchReport.Add("Statistics", $"Insert {Events:N0} access events (one transaction, prepared)", $"{insert.Elapsed.TotalSeconds:N1} s");

        foreach (var days in new[] { 30, 90 })
        {
            var url = $"/Audit/Statistics?days={days}";
            for (var i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(url)).StatusCode);
            var times = new List<double>();
            for (var i = 0; i < 10; i++)
            {
                var sw = Stopwatch.StartNew();
                var response = await admin.GetAsync(url);
                await response.Content.ReadAsByteArrayAsync();
                sw.Stop();
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            var median = (times[4] + times[5]) / 2;
            BenchReport.Add("Statistics", $"Statistics page, {days} days, 1M events (warm median of 10)", $"{median:N0} ms", "≤ 300 ms", median <= 300);
        }
    }

    /// <summary>A year of heavy use ending at <paramref name="now"/>, straight into the database (also used by the load bench).</summary>
    internal static void InsertEvents(string databasePath, DateTime now)
    {
        using var conn = new SqliteConnection(Sqlite.ConnectionString(databasePath));
        conn.Open();
        using var tx = conn.BeginTransaction();
        using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO AccessEvents (At, Kind, PatientAccessId, ReportId, ClientIp, UserAgent) VALUES ($at, $kind, $access, $report, $ip, $ua)";
        var at = cmd.Parameters.Add("$at", SqliteType.Text);
        var kind = cmd.Parameters.Add("$kind", SqliteType.Text);
        var access = cmd.Parameters.Add("$access", SqliteType.Integer);
        var report = cmd.Parameters.Add("$report", SqliteType.Integer);
        var ip = cmd.Parameters.Add("$ip", SqliteType.Text);
        var ua = cmd.Parameters.Add("$ua", SqliteType.Text);
        cmd.Prepare();
        var rnd = new Random(42);
        var start = now.AddDays(-365);
        var span = (now - start).Ticks;
        for (var i = 0; i < Events; i++)
        {
            var p = rnd.Next(100);
            var k = p < 40 ? AccessEventKinds.LoginSuccess : p < 70 ? AccessEventKinds.Download : p < 90 ? AccessEventKinds.ReportList
                : p < 95 ? AccessEventKinds.Logout : AccessEventKinds.LoginFailure;
            var accessId = 1 + rnd.Next(20_000);
            // Ascending times, as the portal writes them (keeps the At-leading indexes append-only).
            at.Value = start.AddTicks(span / Events * i + rnd.Next(1000)).ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", System.Globalization.CultureInfo.InvariantCulture);
            kind.Value = k;
            access.Value = accessId;
            report.Value = k == AccessEventKinds.Download ? accessId * 2 + rnd.Next(2) : DBNull.Value;
            ip.Value = $"41.82.{rnd.Next(256)}.{rnd.Next(256)}";
            ua.Value = "Mozilla/5.0 (Linux; Android 14) Mobile";
            cmd.ExecuteNonQuery();
        }
        tx.Commit();
    }
}
