using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Playwright;
using Xunit.Sdk;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// Runs the journey's steps and keeps a viewport screenshot of each one in the test output
/// (<c>bin/…/TestResults/journey/</c>); a failing step saves <c>NAME-FAILED.png</c> there and names it in the failure.
/// With <c>CIMEF_SCREENSHOTS=update</c> the step screenshots are also written to <c>Browser/screenshots/</c> in the
/// source tree (the README's pictures), so an ordinary test run never dirties the working copy.
/// </summary>
public sealed class JourneyScreens(Action<string> log)
{
    public static readonly string OutputDir = Path.Combine(AppContext.BaseDirectory, "TestResults", "journey");

    private readonly string? _sourceDir = Environment.GetEnvironmentVariable("CIMEF_SCREENSHOTS") == "update"
        ? Path.Combine(Path.GetDirectoryName(SourceFile())!, "screenshots")
        : null;

    /// <summary>Starts a run: the previous run's pictures (and failures) go away.</summary>
    public void Reset()
    {
        Directory.CreateDirectory(OutputDir);
        foreach (var old in Directory.EnumerateFiles(OutputDir, "*.png")) File.Delete(old);
    }

    public async Task StepAsync(string name, IPage page, Func<Task> step, bool screenshot = true)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            await step();
        }
        catch (Exception e)
        {
            var failed = Path.Combine(OutputDir, name + "-FAILED.png");
            string saved;
            try
            {
                await page.ScreenshotAsync(new() { Path = failed });
                saved = $"screenshot: {failed}";
            }
            catch (PlaywrightException shotError)
            {
                saved = $"no screenshot ({shotError.Message})";
            }
            throw new XunitException($"Journey step {name} failed at {page.Url} — {saved}{Environment.NewLine}{e}");
        }
        log($"{name}: {watch.ElapsedMilliseconds} ms");
        if (!screenshot) return;
        var bytes = await page.ScreenshotAsync(new() { Path = Path.Combine(OutputDir, name + ".png") });
        if (_sourceDir is not null)
        {
            Directory.CreateDirectory(_sourceDir);
            await File.WriteAllBytesAsync(Path.Combine(_sourceDir, name + ".png"), bytes);
        }
    }

    private static string SourceFile([CallerFilePath] string path = "") => path;
}
