using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;

namespace Cimef.Site.Tests.Web;

/// <summary>HtmxPages: an htmx request gets the fragment, except when htmx restores history (it then needs the whole page).</summary>
public class HtmxPagesTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public async Task A_history_restore_request_gets_the_full_page_with_its_layout()
    {
        var client = await factory.StaffClientAsync(Roles.Secretary);

        var fragment = await client.HtmxGetAsync("/Patients");
        Assert.Equal(HttpStatusCode.OK, fragment.StatusCode);
        Assert.DoesNotContain("<html", await fragment.Content.ReadAsStringAsync());

        using var restore = new HttpRequestMessage(HttpMethod.Get, "/Patients");
        restore.Headers.Add("HX-Request", "true");
        restore.Headers.Add("HX-History-Restore-Request", "true");
        var full = await client.SendAsync(restore);
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        var html = await full.Content.ReadAsStringAsync();
        Assert.Contains("<html", html);
        Assert.Contains("Navigation principale", html);
        Assert.Contains("HX-Request", full.Headers.Vary);
    }
}
