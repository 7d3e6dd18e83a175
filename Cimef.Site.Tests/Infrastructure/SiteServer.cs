using System.Diagnostics;
using Cimef.Site.Tests.Notifications;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>
/// The built Cimef.Site.dll (see <see cref="SiteProcess"/>) started as a real web server on a free loopback port,
/// so a test can kill it with SIGKILL in the middle of a request.
/// </summary>
public sealed class SiteServer : IAsyncDisposable
{
    private readonly Process _process;
    public string Address { get; }
    public bool HasExited => _process.HasExited;

    private SiteServer(Process process, string address)
    {
        _process = process;
        Address = address;
    }

    public static async Task<SiteServer> StartAsync(string dataDir, IDictionary<string, string>? environment = null)
    {
        var address = $"http://127.0.0.1:{FreePort.Next()}";
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(SiteProcess.SiteDll);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add(address);
        psi.WorkingDirectory = Path.GetDirectoryName(SiteProcess.SiteDll)!;
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        psi.Environment["Storage__DataDirectory"] = dataDir;
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                if ((await http.GetAsync(address + "/healthz")).IsSuccessStatusCode) return new SiteServer(process, address);
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (process.HasExited) throw new InvalidOperationException($"The site exited with code {process.ExitCode} before answering.");
            await Task.Delay(100); // polling a child process start-up: real time, not test time
        }
        process.Kill(entireProcessTree: true);
        throw new TimeoutException("The site did not answer /healthz within 60 s.");
    }

    /// <summary>SIGKILL (no shutdown, no flush, no finally blocks): what a power cut or the OOM killer does to the server.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
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
