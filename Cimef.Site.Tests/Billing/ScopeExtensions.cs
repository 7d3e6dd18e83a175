using Cimef.Site.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Billing;

public static class ScopeExtensions
{
    /// <summary>Like WithScopeAsync, returning a value.</summary>
    public static async Task<T> WithScopeAsync2<T>(this CimefFactory factory, Func<IServiceProvider, Task<T>> work)
    {
        await using var scope = factory.Server.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider);
    }
}
