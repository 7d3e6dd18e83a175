using System.Diagnostics;
using System.Net;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Bench;

/// <summary>Foundation measurements: staff sign-in page bytes, /healthz throughput over real Kestrel, backup MB/s.</summary>
[Trait("Category", "Bench")]
public class FoundationBench(KestrelFactory factory) : IClassFixture<KestrelFactory>
{
    private HttpClient Client(bool compressed)
    {
        var handler = new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None, UseCookies = false };
        var c = new HttpClient(handler) { BaseAddress = new Uri(factory.Address) };
        if (compressed) c.DefaultRequestHeaders.Add("Accept-Encoding", "br, gzip");
        return c;
    }

    [Fact]
    public async Task Staff_sign_in_page_bytes()
    {
        using var client = Client(compressed: true);
        var response = await client.GetAsync("/Account/SignIn");
        var bytes = (await response.Content.ReadAsByteArrayAsync()).Length;
        BenchReport.Add("Pages", "Staff sign-in HTML (brotli, bytes)", bytes.ToString("N0"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Healthz_throughput()
    {
        _ = factory.Address;
        var result = await LoadGenerator.RunAsync(() => Client(false), async c => (int)(await c.GetAsync("/healthz")).StatusCode, connections: 16, duration: TimeSpan.FromSeconds(5));
        BenchReport.Add("Throughput", "/healthz req/s (16 connections, .NET generator)", $"{result.RequestsPerSecond:N0} (p99 {result.P99Ms:N1} ms)");
        Assert.Equal(0, result.Errors);
    }

    [Fact]
    public void Password_check_ceiling()
    {
        _ = factory.Address;
        var protector = factory.Services.GetRequiredService<Cimef.Site.Access.CredentialProtector>();
        var stored = protector.Hash("k7m2p9qx");
        const int n = 200_000;
        var sw = Stopwatch.StartNew();
        var ok = 0;
        for (var i = 0; i < n; i++) if (protector.Verify(i % 2 == 0 ? "k7m2p9qx" : "wrongpwd", stored)) ok++;
        sw.Stop();
        BenchReport.Add("Throughput", "Password check ceiling (HMAC-SHA256 verifies/s, one core)", $"{n / sw.Elapsed.TotalSeconds:N0}/s — logins are bound by SQLite fsyncs, not by the hash");
        Assert.Equal(n / 2, ok);
    }

    [Fact]
    public async Task Backup_speed()
    {
        _ = factory.Address;
        var data = factory.DataDir;
        var reports = Path.Combine(data, "reports", "bench");
        Directory.CreateDirectory(reports);
        var rnd = new Random(42);
        var buffer = new byte[1024 * 1024];
        for (var i = 0; i < 64; i++)
        {
            rnd.NextBytes(buffer);
            await File.WriteAllBytesAsync(Path.Combine(reports, $"r{i}.pdf"), buffer);
        }
        var outDir = Path.Combine(Path.GetTempPath(), "cimef-bench-backup-" + Guid.NewGuid().ToString("N"));
        var sw = Stopwatch.StartNew();
        var r = await SiteProcess.RunAsync(data, "backup", "--out", outDir);
        sw.Stop();
        Assert.True(r.ExitCode == 0, r.Stderr);
        var mb = Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) / 1048576.0;
        BenchReport.Add("Operations", "Backup (64 MB of reports, verified, incl. process start)", $"{mb / sw.Elapsed.TotalSeconds:N0} MB/s");
        Directory.Delete(outDir, true);
    }
}
