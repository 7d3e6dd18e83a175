using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using System.Runtime.InteropServices;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Web;

namespace Cimef.Site.Tests.Web;

/// <summary>The site returns its native heap's free pages after full collections (README "Runtime and memory settings").</summary>
public class NativeHeapTrimTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public void The_site_runs_the_trim_and_glibc_has_it()
    {
        factory.NewClient();
        Assert.Single(factory.Services.GetServices<IHostedService>().OfType<NativeHeapTrim>());
        // CI and the clinic servers are Debian (glibc): the call must exist there, or the service would give up.
        Assert.Equal(OperatingSystem.IsLinux() && RuntimeInformation.RuntimeIdentifier.StartsWith("linux-", StringComparison.Ordinal)
            && !RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.Ordinal), NativeHeapTrim.TryTrim());
    }
}
