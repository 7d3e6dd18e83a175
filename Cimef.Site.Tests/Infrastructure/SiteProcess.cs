using System.Diagnostics;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>Runs the site's own executable (Cimef.Site.dll, built beside the tests) as a real process.</summary>
public static class SiteProcess
{
    public static string SiteDll { get; } = FindSiteDll();

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Task<Result> RunAsync(string dataDir, params string[] args) => RunAsync(dataDir, new Dictionary<string, string>(), args);

    /// <summary>With extra environment variables (configuration such as Backup__RecipientCertificate).</summary>
    public static async Task<Result> RunAsync(string dataDir, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(SiteDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["Storage__DataDirectory"] = dataDir;
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (k, v) in TestDatabase.EnvironmentFor(dataDir)) psi.Environment[k] = v;
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        psi.WorkingDirectory = Path.GetDirectoryName(SiteDll)!;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // A site that did not stop (a server started when the test expected a refusal) must not outlive the test.
            p.Kill(entireProcessTree: true);
            throw;
        }
        return new Result(p.ExitCode, await stdout, await stderr);
    }

    private static string FindSiteDll()
    {
        // Tests run from Cimef.Site.Tests/bin/<Configuration>/net10.0; the site's own output sits in Cimef.Site/bin/<Configuration>/net10.0.
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = testBin.Name;
        var configuration = testBin.Parent!.Name;
        var repo = testBin.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(repo, "Cimef.Site", "bin", configuration, tfm, "Cimef.Site.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException("Cimef.Site.dll not built", dll);
        return dll;
    }
}
