using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Cimef.Site.Tests.Notifications;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>
/// The site started as a real web server process on a free loopback port: either the built Cimef.Site.dll
/// (see <see cref="SiteProcess"/>; fault tests kill it with SIGKILL mid-request) or the published, self-contained
/// binary from `./run.ps1 publish` (<see cref="StartPublishedAsync"/>; the load bench).
/// </summary>
public sealed class SiteServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;
    public string Address { get; }
    public bool HasExited => _process.HasExited;
    public int ProcessId => _process.Id;
    /// <summary>What the process printed (standard output and error), oldest first.</summary>
    public IReadOnlyList<string> Output => _output.ToArray();

    private SiteServer(Process process, string address, ConcurrentQueue<string> output)
    {
        _process = process;
        Address = address;
        _output = output;
    }

    /// <summary>publish/&lt;rid&gt;/Cimef.Site(.exe) under the repository root.</summary>
    public static string PublishedExecutable
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cimef.sln"))) dir = dir.Parent;
            var windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
            return Path.Combine(dir!.FullName, "publish", windows ? "win-x64" : "linux-x64", windows ? "Cimef.Site.exe" : "Cimef.Site");
        }
    }

    /// <param name="startWithin">How long the start may take (nodes that wait for each other's migrations need longer).</param>
    public static Task<SiteServer> StartAsync(string dataDir, IDictionary<string, string>? environment = null, TimeSpan? startWithin = null)
    {
        var psi = new ProcessStartInfo("dotnet");
        psi.ArgumentList.Add(SiteProcess.SiteDll);
        return StartAsync(psi, Path.GetDirectoryName(SiteProcess.SiteDll)!, dataDir, environment, startWithin);
    }

    public static Task<SiteServer> StartPublishedAsync(string dataDir, IDictionary<string, string>? environment = null)
    {
        if (!File.Exists(PublishedExecutable))
            throw new FileNotFoundException("Run `./run.ps1 publish` first (the load bench runs against the published site).", PublishedExecutable);
        // As the service runs it: the published runtime.env (systemd EnvironmentFile=) first, the caller's settings over it.
        var directory = Path.GetDirectoryName(PublishedExecutable)!;
        var merged = RuntimeEnvironment(Path.Combine(directory, "runtime.env"));
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) merged[k] = v;
        return StartAsync(new ProcessStartInfo(PublishedExecutable), directory, dataDir, merged, null);
    }

    /// <summary>The KEY=VALUE lines of an environment file as systemd reads it (# comments and blank lines skipped).</summary>
    public static Dictionary<string, string> RuntimeEnvironment(string path)
    {
        var values = new Dictionary<string, string>();
        if (!File.Exists(path)) return values;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.IndexOf('=') is not (> 0 and var eq)) continue;
            values[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }
        return values;
    }

    private static async Task<SiteServer> StartAsync(ProcessStartInfo psi, string workingDirectory, string dataDir, IDictionary<string, string>? environment,
        TimeSpan? startWithin)
    {
        var within = startWithin ?? TimeSpan.FromSeconds(60);
        var address = $"http://127.0.0.1:{FreePort.Next()}";
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add(address);
        psi.WorkingDirectory = workingDirectory;
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment["Storage__DataDirectory"] = dataDir;
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (k, v) in TestDatabase.EnvironmentFor(dataDir)) psi.Environment[k] = v;
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var process = Process.Start(psi)!;
        var tail = new ConcurrentQueue<string>();
        void Keep(string? line)
        {
            if (line is null) return;
            tail.Enqueue(line);
            while (tail.Count > 400) tail.TryDequeue(out _);
        }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < within)
        {
            try
            {
                if ((await http.GetAsync(address + "/healthz")).IsSuccessStatusCode) return new SiteServer(process, address, tail);
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (process.HasExited)
                throw new InvalidOperationException($"The site exited with code {process.ExitCode} before answering:\n{string.Join("\n", tail.TakeLast(40))}");
            await Task.Delay(100); // polling a child process start-up: real time, not test time
        }
        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"The site did not answer /healthz within {within.TotalSeconds:0} s:\n{string.Join("\n", tail.TakeLast(40))}");
    }

    /// <summary>Working set of the server process, in bytes (fresh reading).</summary>
    public long WorkingSet()
    {
        _process.Refresh();
        return _process.WorkingSet64;
    }

    /// <summary>On Linux, the resident memory split: anonymous (heaps), file-backed (mapped runtime and DLLs), shared (JIT double mapping).</summary>
    public string MemoryBreakdown()
    {
        var status = $"/proc/{_process.Id}/status";
        if (!File.Exists(status)) return "";
        var rows = File.ReadAllLines(status).Where(l => l.StartsWith("RssAnon") || l.StartsWith("RssFile") || l.StartsWith("RssShmem"))
            .Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => long.Parse(p[1].Trim().Split(' ')[0]) / 1024);
        return $"anon {rows.GetValueOrDefault("RssAnon")} MB, files {rows.GetValueOrDefault("RssFile")} MB, shared {rows.GetValueOrDefault("RssShmem")} MB";
    }

    /// <summary>SIGKILL (no shutdown, no flush, no finally blocks): what a power cut or the OOM killer does to the server.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    /// <summary>SIGTERM: the host's graceful shutdown (hosted services stopped, connections closed), as a rolling restart does.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { await KillAsync(); }
    }

    public async Task KillAsync()
    {
        Kill();
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
