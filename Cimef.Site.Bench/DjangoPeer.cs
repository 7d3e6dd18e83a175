using System.Diagnostics;
using Cimef.Site.Tests.Notifications;

namespace Cimef.Site.Bench;

/// <summary>
/// The seed's own design (../shared/peers/django-seed: Django + DRF under gunicorn, SQLite), run from a copy in a
/// temporary folder (shared/ is read-only in CI and the peer writes its database, media and pid file beside itself):
/// its start.sh on a free loopback port, seed.py, and stop.sh on dispose. Its Debian packages are installed when missing.
/// </summary>
public sealed class DjangoPeer : IAsyncDisposable
{
    private static readonly string[] Packages = ["python3-django", "python3-djangorestframework", "gunicorn", "wrk", "curl"];
    private static readonly string[] Generated = ["db.sqlite3", "media", "creds.txt", "run", "logs", "__pycache__"];

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cimef-peer", Guid.NewGuid().ToString("N"));
    private bool _started;

    public string Address { get; } = $"http://127.0.0.1:{FreePort.Next()}";
    public IReadOnlyList<BenchPatients.Credentials> Credentials { get; private set; } = [];

    /// <summary>The peer's folder next to the repository: ../shared/peers/django-seed.</summary>
    public static string Source => Path.GetFullPath(Path.Combine(BenchReport.RepoRoot, "..", "shared", "peers", "django-seed"));

    /// <summary>Copies, starts and seeds the peer: <paramref name="patients"/> patients with one report each.</summary>
    public static async Task<DjangoPeer> StartAsync(int patients, int reportKb)
    {
        if (!Directory.Exists(Source)) throw new DirectoryNotFoundException($"The Django peer is missing: {Source}");
        await EnsurePackagesAsync();
        var peer = new DjangoPeer();
        try
        {
            Copy(new DirectoryInfo(Source), peer._dir);
            peer._started = true;
            await peer.ShAsync("start.sh");
            await RunAsync("/usr/bin/python3", peer._dir, null, "seed.py", "--patients", patients.ToString(), "--reports", "1", "--file-kb", reportKb.ToString());
            peer.Credentials = (await File.ReadAllLinesAsync(Path.Combine(peer._dir, "creds.txt")))
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length == 3)
                .Select(f => new BenchPatients.Credentials(f[0], f[1], int.Parse(f[2]))).ToList();
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    /// <summary>Resident memory of the gunicorn master and its workers (sum of VmRSS, bytes) and how many processes that is.</summary>
    public (long Bytes, int Processes) Resident()
    {
        var master = int.Parse(File.ReadAllText(Path.Combine(_dir, "run", "gunicorn.pid")).Trim());
        long total = 0;
        var processes = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string[] status;
            try { status = File.ReadAllLines(Path.Combine(dir, "status")); }
            catch (IOException) { continue; } // the process ended while we looked
            if (pid != master && Field(status, "PPid") != master) continue;
            total += Field(status, "VmRSS") * 1024;
            processes++;
        }
        return (total, processes);
    }

    private static long Field(string[] status, string name) =>
        status.Where(l => l.StartsWith(name + ":", StringComparison.Ordinal))
            .Select(l => long.Parse(l[(name.Length + 1)..].Trim().Split(' ')[0])).FirstOrDefault();

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_started) await ShAsync("stop.sh");
        }
        finally
        {
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        }
    }

    private Task ShAsync(string script) =>
        RunAsync("/bin/bash", _dir, new Dictionary<string, string> { ["PORT"] = new Uri(Address).Port.ToString() }, script);

    private static async Task EnsurePackagesAsync()
    {
        var missing = new List<string>();
        foreach (var p in Packages)
        {
            var (code, output) = await TryRunAsync("dpkg-query", "/", null, "-W", "-f=${Status}", p);
            if (code != 0 || !output.Contains("install ok installed", StringComparison.Ordinal)) missing.Add(p);
        }
        if (missing.Count == 0) return;
        // A fresh machine may not have the package lists yet: update once, then retry.
        if ((await TryRunAsync("apt-get", "/", null, ["install", "-y", .. missing])).Code == 0) return;
        await RunAsync("apt-get", "/", null, "update");
        await RunAsync("apt-get", "/", null, ["install", "-y", .. missing]);
    }

    private static void Copy(DirectoryInfo from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in from.EnumerateFiles().Where(f => !Generated.Contains(f.Name)))
            f.CopyTo(Path.Combine(to, f.Name));
        foreach (var d in from.EnumerateDirectories().Where(d => !Generated.Contains(d.Name)))
            Copy(d, Path.Combine(to, d.Name));
    }

    private static async Task RunAsync(string file, string dir, Dictionary<string, string>? env, params string[] args)
    {
        var (code, output) = await TryRunAsync(file, dir, env, args);
        if (code != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {code}:\n{output}");
    }

    private static async Task<(int Code, string Output)> TryRunAsync(string file, string dir, Dictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? []) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var backstop = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await p.WaitForExitAsync(backstop.Token);
        return (p.ExitCode, await stdout + await stderr);
    }
}
