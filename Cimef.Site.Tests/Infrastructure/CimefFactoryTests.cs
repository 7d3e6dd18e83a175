using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Infrastructure;

public class CimefFactoryTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    /// <summary>A watched appsettings file costs an inotify instance per host; the machine has 128 for the whole suite.</summary>
    [Fact]
    public void Test_hosts_do_not_watch_their_configuration_files()
    {
        var root = (IConfigurationRoot)factory.Services.GetRequiredService<IConfiguration>();
        var files = root.Providers.OfType<FileConfigurationProvider>().ToList();
        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.False(f.Source.ReloadOnChange, f.Source.Path));
    }
}
